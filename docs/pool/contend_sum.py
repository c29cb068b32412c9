import json, statistics as st, sys
rows=[json.loads(l) for l in open(sys.argv[1])]
print("| round | pool | pinned pair (tok/s, sum) | unpinned pair (sum) | unpinned / pinned | alone, --workers 1 | alone, --workers 2 |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
agg={}
for r in sorted({x['round'] for x in rows}):
    for b in ('old','new'):
        g={x['mode']:x for x in rows if x['round']==r and x['bin']==b}
        if 'pinned' not in g or 'alone-w2' not in g: continue
        p=g['pinned']['a']+g['pinned']['b']; u=g['unpinned']['a']+g['unpinned']['b']
        agg.setdefault(b,[]).append((p,u,g['alone-w1']['a'],g['alone-w2']['a']))
        print(f"| {r} | {b} | {p:.0f} | {u:.0f} | {u/p:.2f} | {g['alone-w1']['a']:.0f} | {g['alone-w2']['a']:.0f} |")
for b,v in agg.items():
    p=st.median([x[0] for x in v]); u=st.median([x[1] for x in v])
    print(f"| median | {b} | {p:.0f} | {u:.0f} | {st.median([x[1]/x[0] for x in v]):.2f} | {st.median([x[2] for x in v]):.0f} | {st.median([x[3] for x in v]):.0f} |")
