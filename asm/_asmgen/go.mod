module github.com/sproutml/sprout/asm/_asmgen

go 1.26.0
