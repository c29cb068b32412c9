package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"github.com/sproutml/sprout/asm"
)

func init() {
	commands["version"] = command{"print version, Go version, platform, kernel path and CPU features", runVersion}
}

// version is the module version when installed with `go install ...@vX`,
// else the VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "devel-" + rev
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sprout %s\n", version())
	fmt.Fprintf(stdout, "go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "kernel:   %s (supported: %s)\n", asm.Kernel(), strings.Join(asm.Supported(), ", "))
	brand := strings.TrimSpace(cpuid.CPU.BrandName)
	if brand == "" {
		brand = "unknown (not detected; noasm builds of cpuid detect nothing on x86)"
	}
	fmt.Fprintf(stdout, "cpu:      %s, %d logical cores\n", brand, runtime.NumCPU())
	fmt.Fprintf(stdout, "features: %s\n", strings.Join(simdFeatures(), " "))
	return nil
}

// simdFeatures lists the CPU features the kernels care about.
func simdFeatures() []string {
	var out []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE4, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.ASIMD} {
		if cpuid.CPU.Supports(f) {
			out = append(out, strings.ToLower(f.String()))
		}
	}
	if len(out) == 0 {
		out = append(out, "none")
	}
	return out
}
