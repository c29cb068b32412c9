package asm

const (
	archAMD64 = true
	archARM64 = false
)
