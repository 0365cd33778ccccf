# Generates redisdirectives_table.go from Redis 7.0's src/config.c:
#   python3 server/redisdirectives_gen.py > server/redisdirectives_table.go && gofmt -w server/redisdirectives_table.go
# (config.c at /tmp/rsrc/src, as the machine has it; the path is below).
import re,sys
src=open('/tmp/rsrc/src/config.c').read()
enums={}
for m in re.finditer(r'configEnum (\w+)\[\] = \{(.*?)\};',src,re.S):
    enums[m.group(1)]=re.findall(r'\{"([^"]+)"',m.group(2))
tbl=re.search(r'standardConfig static_configs\[\] = \{(.*?)\n\};',src,re.S).group(1)
macros={'INT_MAX':2**31-1,'INT_MIN':-2**31,'UINT_MAX':2**32-1,'LONG_MAX':2**63-1,'LLONG_MAX':2**63-1,'LONG_MIN':-2**63,'LLONG_MIN':-2**63,
 'ULLONG_MAX':2**64-1,'ULONG_MAX':2**64-1,'SIZE_MAX':2**64-1,'SSIZE_MAX':2**63-1,'CONFIG_DEFAULT_HZ':10}
def ev(x):
    x=re.sub(r'(\d)ll\b',r'\1',x.strip())
    for k,v in macros.items(): x=re.sub(r'\b'+k+r'\b',str(v),x)
    if re.fullmatch(r'0[0-7]+',x): return int(x,8)
    return eval(x)
def args(s):
    out=[];depth=0;cur='';q=False
    for ch in s:
        if ch=='"' : q=not q
        if not q and ch=='(' : depth+=1
        if not q and ch==')' : depth-=1
        if not q and ch==',' and depth==0: out.append(cur.strip()); cur=''; continue
        cur+=ch
    out.append(cur.strip()); return out
rows=[]
for m in re.finditer(r'create(\w+)Config\((.*?)\),\s*(?:/\*.*?\*/)?\s*\n',tbl):
    typ=m.group(1); a=args(m.group(2))
    name=a[0].strip('"'); alias='' if a[1]=='NULL' else a[1].strip('"'); flags=a[2]
    imm='IMMUTABLE_CONFIG' in flags; prot='PROTECTED_CONFIG' in flags; hidden='HIDDEN_CONFIG' in flags
    r=dict(name=name,alias=alias,imm=imm,prot=prot,hidden=hidden,typ=typ)
    if typ=='Bool':
        r['kind']='dirBool'; r['def']='yes' if a[4]=='1' else 'no'
    elif typ in('String','SDS'):
        r['kind']='dirString'; d=a[5]; r['null']=(a[3]=='EMPTY_STRING_IS_NULL' and d=='NULL')
        d={'CONFIG_DEFAULT_PROC_TITLE_TEMPLATE':'"{title} {listen-addr} {server-mode}"'}.get(d,d)
        r['def']='' if d=='NULL' else d.strip('"')
        if not d.startswith('"') and d!='NULL': print('MACRO',name,d,file=sys.stderr)
    elif typ=='Enum':
        r['kind']='dirEnum'; e=enums[a[3]]; r['enum']=e
        dv=a[5]
        em=re.search(r'configEnum '+a[3]+r'\[\] = \{(.*?)\};',src,re.S).group(1)
        pairs=re.findall(r'\{"([^"]+)",\s*([^}]+)\}',em)
        r['def']=[p for p,v in pairs if v.strip()==dv.strip()][0]
    elif typ=='Special':
        r['kind']='dirSpecial'
    else:
        r['kind']='dirNum'; lo,hi,dv,fl=ev(a[3]),ev(a[4]),ev(a[6]),a[7]
        r.update(lo=lo,hi=hi,numdef=dv,unsigned=typ in('UInt','ULongLong','SizeT'),memory='MEMORY_CONFIG' in fl,percent='PERCENT_CONFIG' in fl,octal='OCTAL_CONFIG' in fl)
        if r['octal']: r['def']='%o'%dv
        else: r['def']=str(dv)
    rows.append(r)
print(len(rows),file=sys.stderr)
def gs(s): return '"'+s.replace('\\','\\\\').replace('"','\\"')+'"'
def i64(v):
    if v>2**63-1: return '-1' # unsigned max as int64 bits
    return str(v)
print('''// Code generated from Redis 7.0.15's src/config.c (standardConfig table) by
// redisdirectives_gen.py; DO NOT EDIT by hand, regenerate.

package server

// redisDirectiveTable lists every configuration directive of Redis 7.0,
// with its flags, value syntax, bounds and default as CONFIG GET prints
// it. Numeric bounds of unsigned types are their bits in an int64.
func redisDirectiveTable() []redisDirective {
	return []redisDirective{''')
for r in rows:
    f=[f'name: {gs(r["name"])}']
    if r['alias']: f.append(f'alias: {gs(r["alias"])}')
    f.append('kind: '+r['kind'])
    if r['imm']: f.append('immutable: true')
    if r['prot']: f.append('protected: true')
    if r['hidden']: f.append('hidden: true')
    if r['kind']!='dirSpecial': f.append('def: '+gs(r['def']))
    if r.get('null'): f.append('null: true')
    if r['kind']=='dirEnum': f.append('enum: []string{'+', '.join(gs(e) for e in r['enum'])+'}')
    if r['kind']=='dirNum':
        fl=[]
        if r['unsigned']: fl.append('numUnsignedBounds')
        if r['memory']: fl.append('numMemoryUnits')
        if r['percent']: fl.append('numPercent')
        if r['octal']: fl.append('numOctal')
        f.append(f'lo: {i64(r["lo"])}, hi: {i64(r["hi"])}')
        if fl: f.append('num: '+'|'.join(fl))
    print('\t\t{'+', '.join(f)+'},')
print('\t}\n}')
