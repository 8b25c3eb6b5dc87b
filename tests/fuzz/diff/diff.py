# diff.py — feeds each input file (first byte skipped: fuzz corpus format) to
# /usr/sbin/nats-server after a CONNECT and compares its visible reaction with
# /tmp/diff/predict (see predict.c).  pedantic must be off: nats-server's
# default is pedantic ON when CONNECT omits it.
import socket, subprocess, sys, time, os, glob
def free():
    s=socket.socket(); s.bind(('127.0.0.1',0)); p=s.getsockname()[1]; s.close(); return p
port = free()
srv = subprocess.Popen(['/usr/sbin/nats-server','-a','127.0.0.1','-p',str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try: socket.create_connection(('127.0.0.1',port)).close(); break
    except: time.sleep(0.05)
PRE = b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n'
def observe(stream):
    s = socket.create_connection(('127.0.0.1',port)); s.settimeout(0.4)
    info=b''
    while not info.endswith(b'\r\n'): info += s.recv(4096)
    try: s.sendall(stream)
    except Exception: pass
    out=b''; closed=False
    while True:
        try:
            d=s.recv(65536)
            if not d: closed=True; break
            out+=d
        except socket.timeout: break
        except (ConnectionResetError, BrokenPipeError): closed=True; break
    s.close()
    res=[]; i=0
    while i < len(out):
        j = out.find(b'\r\n', i)
        if j < 0: res.append('PARTIAL '+repr(out[i:])); break
        line = out[i:j]; i = j+2
        if line.startswith(b'MSG ') or line.startswith(b'HMSG '):
            n = int(line.split()[-1]); i += n + 2
        elif line == b'+OK': pass
        else: res.append(line.decode('latin1'))
    res.append('CLOSED' if closed else 'OPEN')
    return res
files = sys.argv[1:]
bad = 0
for f in files:
    data = open(f,'rb').read()[1:]
    stream = PRE + data
    open('/tmp/diff/cur','wb').write(stream)
    pred = subprocess.run(['/tmp/diff/predict','/tmp/diff/cur'],capture_output=True).stdout.decode('latin1').splitlines()
    obs = observe(stream)
    if pred != obs:
        bad += 1
        print('DIFF', f, repr(stream[:200]))
        print('   pred', pred[:6], '...' if len(pred)>6 else '')
        print('   obs ', obs[:6], '...' if len(obs)>6 else '')
print('checked', len(files), 'diffs', bad)
srv.terminate(); srv.wait()
