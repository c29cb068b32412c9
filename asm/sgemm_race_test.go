//go:build race

package asm

const sgemmRaceBuild = true
