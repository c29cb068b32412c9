module github.com/sproutml/sprout/asm/_sgemmgen

go 1.26.0
