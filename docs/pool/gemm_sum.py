import json, statistics as st, sys
rows=[json.loads(l) for l in open(sys.argv[1])]
shapes=[]
for r in rows:
    if r['shape'] not in shapes: shapes.append(r['shape'])
for th in (1,2):
    print(f"\n{th} thread(s): median GFLOP/s over rounds")
    print("| shape | old pool | new pool | new/old | OpenBLAS | new/OpenBLAS | old/OpenBLAS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in shapes:
        g={b: st.median([r['sprout_gflops'] for r in rows if r['shape']==s and r['threads']==th and r['bin']==b] or [0]) for b in ('old','new','openblas')}
        if not g['old']: continue
        print(f"| {s.replace(' NN','')} | {g['old']:.1f} | {g['new']:.1f} | {g['new']/g['old']:.2f} | {g['openblas']:.1f} | {g['new']/g['openblas']:.2f} | {g['old']/g['openblas']:.2f} |")
