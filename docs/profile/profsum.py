import subprocess, json, re, sys
# Share of the timed steps' CPU samples in each part, from `go tool pprof -top -cum`.
rows = [("forward (Model.Forward)", r"nn\.\(\*Model\)\.Forward$"),
        ("  attention forward", r"nn\.attentionForward$"),
        ("backward (Tape.BackwardFrom)", r"nn\.\(\*Tape\)\.BackwardFrom$"),
        ("  linear backward", r"nn\.\(\*Tape\)\.linearBackward$"),
        ("  attention backward", r"nn\.attentionBackward$"),
        ("optimizer (Muon.Step)", r"nn\.\(\*Muon\)\.Step$"),
        ("  Newton-Schulz", r"nn\.newtonSchulz$"),
        ("gradient reduction (stepper.reduce)", r"trainer\.\(\*stepper\)\.reduce$"),
        ("GEMM micro-kernel (flat)", r"asm\.sgemmKernel\w+$"),
        ("GEMM packing (asm.pack*, flat)", None),
        ("layer norm fwd+bwd", None),
        ("GELU fwd+bwd", None),
        ("softmax rows (attention)", r"nn\.softmaxCausalRow$"),
        ("runtime (GC, memclr, scheduler; flat)", None)]
def prof(path, binary):
    out = subprocess.run(["go","tool","pprof","-top","-cum","-nodecount=400",binary,path],capture_output=True,text=True).stdout
    total = float(re.search(r"Total samples = ([\d.]+)(m?s)", out).group(1)) * (1e-3 if "ms" in re.search(r"Total samples = [\d.]+(m?s)", out).group(1) else 1)
    cum, flat = {}, {}
    def sec(s): return 0.0 if s == "0" else float(s[:-2])*1e-3 if s.endswith("ms") else float(s[:-1])
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[1].endswith("%") and f[4].endswith("%"):
            name = " ".join(f[5:]).replace(" (inline)", "")
            flat[name] = sec(f[0]); cum[name] = sec(f[3])
    def c(rx): return sum(v for k, v in cum.items() if re.search(rx, k))
    def fl(rx): return sum(v for k, v in flat.items() if re.search(rx, k))
    res = {}
    for label, rx in rows:
        if rx is None:
            if label.startswith("GEMM packing"): v = fl(r"asm\.pack")
            elif label.startswith("layer norm"): v = c(r"nn\.\(\*Tape\)\.LayerNorm$") + c(r"nn\.\(\*Tape\)\.layerNormBackward$")
            elif label.startswith("GELU"): v = c(r"nn\.\(\*Tape\)\.GELU$") + c(r"nn\.\(\*Tape\)\.geluBackward$")
            else: v = fl(r"^runtime\.")
        elif label.startswith("GEMM micro"): v = fl(rx)
        else: v = c(rx)
        res[label] = 100 * v / total
    return res
widths = sys.argv[2:]
r = {w: prof(f"d{w}.pprof", sys.argv[1]) for w in widths}
meta = {w: json.load(open(f"d{w}.json")) for w in widths}
print("| part (% of CPU time in timed steps) | " + " | ".join(f"d={w}" for w in widths) + " |")
print("| --- | " + " | ".join("---:" for _ in widths) + " |")
print("| tokens/s (one core) | " + " | ".join(f"{meta[w]['tokens_per_s']:.0f}" for w in widths) + " |")
print("| MFU, exact model FLOPs | " + " | ".join(f"{100*meta[w]['mfu_exact']:.1f}%" for w in widths) + " |")
for label, _ in rows:
    print(f"| {label} | " + " | ".join(f"{r[w][label]:.1f}" for w in widths) + " |")
