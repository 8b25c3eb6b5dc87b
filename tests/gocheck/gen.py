#!/usr/bin/env python3
"""Random Sublist program for the Go differential check (see run.sh).

One command per line, tab-separated:
  I id subject queue|-   insert a new subscription
  R id                   remove (only ids whose insert is valid: Go's Remove
                         would dereference nil otherwise)
  M subject              match
  V pattern              reverse match
  S hex hex              subject functions (validity, wildcard, subset) on
                         random byte strings
  N subject -            register a plain notification (queue notifications
                         are left out: Go's initial queue state looks only at
                         each group's first member, and the server never uses
                         them)
"""
import random
import sys

random.seed(int(sys.argv[1]))
count = int(sys.argv[2])
LITS = ['a', 'b', 'c']


def subject(pattern, maxtok=4):
    toks = []
    k = random.randint(1, maxtok)
    for i in range(k):
        r = random.random()
        if pattern and r < 0.15:
            toks.append('*')
        elif pattern and r < 0.25 and i == k - 1:
            toks.append('>')
        elif r < 0.03:
            toks.append('')  # empty token: invalid
        elif r < 0.05:
            toks.append(random.choice(['*', '>']))  # possibly misplaced
        else:
            toks.append(random.choice(LITS))
    return '.'.join(toks)


RAW = [b'a', b'b', b'.', b'.', b'*', b'>', b' ', b'\t', b'\f', b'\v', b'\n',
       b'\r', b'\x00', b'\xc2\xa0', b'\xe3\x80\x80', b'ab']


def raw():
    return b''.join(random.choice(RAW) for _ in range(random.randint(0, 8)))


def insertable(s):
    t = s.split('.')
    return all(t) and all(x != '>' for x in t[:-1])


ids = []
nid = 0
for _ in range(count):
    r = random.random()
    if r < 0.35:
        nid += 1
        s = subject(True)
        q = random.choice(['-', '-', '-', 'q1', 'q2'])
        print(f"I\t{nid}\t{s}\t{q}")
        if insertable(s):
            ids.append(nid)
    elif r < 0.55 and ids:
        print(f"R\t{random.choice(ids)}")
    elif r < 0.75:
        print(f"M\t{subject(False)}")
    elif r < 0.9:
        print(f"V\t{subject(True)}")
    elif r < 0.93:
        print(f"N\t{subject(False, 3)}\t-")
    else:
        print(f"S\t{raw().hex()}\t{raw().hex()}")
