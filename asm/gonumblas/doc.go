// Package gonumblas plugs sprout's Sgemm into gonum: Implementation satisfies
// gonum's blas.Float32, with Sgemm from sprout/asm and every other routine
// from gonum's pure-Go blas/gonum. After blas32.Use(gonumblas.Implementation{})
// gonum code that multiplies float32 matrices through blas32 runs on sprout's
// kernels.
//
// It lives apart from package asm so that asm itself does not depend on gonum.
package gonumblas
