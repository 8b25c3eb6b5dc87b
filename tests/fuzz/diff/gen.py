# gen.py — random near-valid client streams for diff.py (SEED, N env vars).
import random, os
random.seed(int(os.environ.get('SEED','1')))
def rcase(s): return ''.join(c.upper() if random.random()<0.5 else c.lower() for c in s)
def blank(): return random.choice([' ','\t','  ',' \t ']) 
def eol(): return random.choice(['\r\n']*6+['\n','\r\r\n',' \r\n'])
def subj(): return random.choice(['foo','foo.bar','a.*','a.>','x'*random.choice([1,10,4090,4095]),'a..b','$GNR.x','q'])
def size(n): return random.choice([str(n)]*8+[str(n+1),str(max(n-1,0)),'-1','x','0'+str(n),'1234567890'])
def op():
    k = random.random()
    if k<0.25:
        pl = 'p'*random.choice([0,1,5,100,600])
        args=[subj()]+([random.choice(['r','_INBOX.1'])] if random.random()<0.3 else [])+[size(len(pl))]
        return rcase('PUB')+blank()+blank().join(args)+eol()+pl+random.choice(['\r\n']*8+['\n','x\r\n',''])
    if k<0.4:
        h='NATS/1.0\r\nA: b\r\n\r\n'; pl=h+'body'*random.choice([0,1,3])
        args=[subj()]+(['r'] if random.random()<0.3 else [])+[size(len(h)),size(len(pl))]
        return rcase('HPUB')+blank()+blank().join(args)+eol()+pl+'\r\n'
    if k<0.55:
        args=[subj()]+(['grp'] if random.random()<0.3 else [])+[str(random.randint(1,9))]
        if random.random()<0.1: args=args[:1]
        return rcase('SUB')+blank()+blank().join(args)+eol()
    if k<0.62:
        return rcase('UNSUB')+blank()+str(random.randint(1,9))+(blank()+random.choice(['0','3','x']) if random.random()<0.5 else '')+eol()
    if k<0.8: return rcase(random.choice(['PING','PONG','+OK']))+random.choice(['','','x',' junk'])+eol()
    if k<0.85: return rcase('INFO')+random.choice([' ',''])+random.choice(['{}','{"a":1}','{x'])+eol()
    if k<0.88: return rcase('CONNECT')+' '+random.choice(['{}','{"protocol":1}','{"protocol":2}','{x','{"no_responders":true,"headers":false}'])+eol()
    if k<0.9: return random.choice(['-ERR x\r\n','HMSG a 1 2\r\n\r\n','MSG a 1 2\r\n','\r\n','FOO\r\n'])
    return 'PING\r\n'
os.makedirs('/tmp/diff/gen', exist_ok=True)
for n in range(int(os.environ.get('N','300'))):
    s = ''.join(op() for _ in range(random.randint(1,8)))
    open(f'/tmp/diff/gen/g{n:04d}','wb').write(b'\x00'+s.encode())
