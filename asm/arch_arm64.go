package asm

const (
	archAMD64 = false
	archARM64 = true
)
