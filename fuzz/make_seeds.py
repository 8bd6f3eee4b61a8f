#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers that read what a target controls (fuzz/corpus/NAME/):
guest, exec, symbols, usdt, elf, tracefs, perf, kvm_tsc, qmp, vm_conf. Each seed is a small valid (or nearly valid)
input in the layout the fuzzer's header comment describes. The files are committed; run this
again after changing a layout:  python3 fuzz/make_seeds.py
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def corpus(name):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    return d


def write(name, fname, data):
    with open(os.path.join(corpus(name), fname), "wb") as f:
        f.write(data)


def cstr(s, size):
    b = s.encode() + b"\0"
    assert len(b) <= size
    return b + b"\0" * (size - len(b))


# --- guest ------------------------------------------------------------------------------------

def gprobe(kind, pid, nargs, flags, provider, module, function, name):
    return (struct.pack("<IiHHI", kind, pid, nargs, flags, 0) + cstr(provider, 32) +
            cstr(module, 48) + cstr(function, 96) + cstr(name, 64))


def grecord(probe, pid, tid, vcpu, args, ts, seq, comm, tail=b"", kframes=0, uframes=0,
            image=0):
    tail_len = 0 if kframes + uframes else len(tail)
    b = struct.pack("<IIIHHQQHBBI", probe, pid, tid, vcpu, len(args), ts, seq, tail_len, kframes,
                    uframes, image)
    b += b"".join(struct.pack("<Q", a & 0xFFFFFFFFFFFFFFFF) for a in args)
    b += b"\0" * (8 * (10 - len(args)))
    b += cstr(comm, 16)
    b += tail + b"\0" * (248 - len(tail))
    assert len(b) == 384
    return b


def gcontrol(count1, count2, head0, head1, watermark, ntable, flags, push0, push1):
    return struct.pack("<IIQQIBBBB", count1, count2, head0, head1, watermark, ntable, flags,
                       push0, push1)


def guest_seeds():
    table = [
        gprobe(1, 101, 2, 0, "reqloop", "reqloop", "main", "request__start"),
        gprobe(2, 0, 3, 1, "syscall", "", "openat", "entry"),
        gprobe(1, 101, 1, 0, "reqloop", "reqloop", "main", "request__done"),
    ]
    ring0 = [
        grecord(0, 101, 102, 0, [7, -1], 1000, 0, "reqloop"),
        grecord(2, 101, 102, 1, [7], 2000, 1, "reqloop"),
        grecord(0, 101, 103, 1, [8, 9], 3000, 2, "reqloop"),
    ]
    ring1 = [grecord(1, 55, 55, 0, [0xFFFF, 0, 0], 1500, 0, "cat", b"/etc/hostname\0")]
    slots = lambda recs: b"".join(recs) + b"\0" * (384 * (16 - len(recs)))
    body = b"".join(table) + slots(ring0) + b"".join(ring1)
    write("guest", "async_two_rounds",
          b"\0" + gcontrol(2, 3, 2, 1, 2500, 3, 2, 1, 0) + body)
    write("guest", "sync_one_at_a_time",
          b"\0" + gcontrol(3, 3, 3, 1, 0, 3, 1, 0, 0) + body)
    # A table entry with a ':' in its name, a count beyond the table, a wrong sequence number.
    bad_table = [gprobe(1, 1, 11, 4, "bad:prov", "m", "f", "n"), table[1]]
    bad_ring = [grecord(1, 1, 1, 0, [1, 2, 3], 10, 5, "x", b"no-nul")]
    write("guest", "bad_entries_records",
          b"\0" + gcontrol(0xFFFFFFFF, 2, 1, 0, 0, 2, 0, 0x81, 3) + b"".join(bad_table) +
          slots(bad_ring))
    # A profile probe whose records carry stacks (VTRACE_GPROBE_STACKS): one with two kernel
    # frames and a user one, one claiming more frames than its tail holds, one with frames on a
    # probe without stacks.
    stack_table = [gprobe(2, 0, 2, 0x100, "profile", "", "", "profile-997"), table[1]]
    frames = struct.pack("<QQQ", 0xFFFFFFFF81000010, 0xFFFFFFFF81000200, 0x401000)
    stack_ring = [grecord(0, 7, 7, 0, [0xFFFFFFFF81000010, 0], 10, 0, "sh", frames, 2, 1, 3),
                  grecord(0, 7, 7, 0, [0, 0x401000], 20, 1, "sh", frames, 30, 30, 3),
                  grecord(1, 7, 7, 0, [0, 0, 0], 30, 2, "sh", frames, 1, 0, 0)]
    write("guest", "stacks",
          b"\0" + gcontrol(2, 2, 3, 0, 100, 2, 0, 0, 0) + b"".join(stack_table) +
          slots(stack_ring))
    # Heads far beyond the ring (a lying producer).
    write("guest", "head_far",
          b"\0" + gcontrol(1, 1, 1 << 40, 17, 1, 1, 0, 0, 0) + table[0] + slots(ring0))
    # Header mode: the layout vm start writes for 16 MiB, then the mapped size.
    layout = struct.pack("<QIIQIIIIIIIIQ", 0x3130545347525456, 1, 384, 16 << 20, 4096, 131072,
                         135168, 4096, 1183744, 2, 1187840, 8192, 3149824)
    assert len(layout) == 64
    write("guest", "header_valid", b"\1" + layout + struct.pack("<Q", 16 << 20))
    write("guest", "header_small_map", b"\1" + layout + struct.pack("<Q", 1 << 20))


# --- symbols ----------------------------------------------------------------------------------

def symbols_seeds():
    write("symbols", "answer_valid",
          b"\0k:ffffffff81000010\tvmlinux\tdo_syscall_64\t10\n"
          b"u:7:1:401000\tbusybox\t\t0\nu:7:2:401000\tapp\tmain\t1f\n")
    write("symbols", "answer_liar",
          b"\0k:ffffffff81000010\t\tname_without_module\t0\nu:7:1:401000\tbad name\tx\t0\n")
    write("symbols", "request",
          b"\1k:ffffffff81000010\nu:7:1:401000\nu:x:1:2\nk:\nu:4294967296:0:0\nk:zz")


# --- exec -------------------------------------------------------------------------------------

def exec_fields(req, resp, state, status, argc, argv_len, out_len, trunc, cap, traced):
    return struct.pack("<IIIiIIIIII", req, resp, state, status, argc, argv_len, out_len, trunc,
                       cap, traced) + b"\0" * 24


def exec_seeds():
    cap = 131072 - (64 + 4096)
    write("exec", "reply_hello", b"\0" + exec_fields(1, 1, 2, 0, 1, 5, 6, 0, cap, 0) + b"hello\n")
    write("exec", "reply_liar",
          b"\0" + exec_fields(3, 3, 2, -9, 1, 5, 0xFFFFFFFF, 0, cap, 1) + b"x" * 64)
    write("exec", "reply_status_300",
          b"\0" + exec_fields(2, 2, 2, 300, 2, 8, 3, 1, cap, 0) + b"abc")
    argv = b"echo\0hello\0world\0"
    write("exec", "request_echo",
          b"\1" + exec_fields(1, 0, 0, 0, 3, len(argv), 0, 0, cap, 1) + argv)
    write("exec", "request_short",
          b"\1" + exec_fields(1, 0, 0, 0, 4, len(argv), 0, 0, cap, 0) + argv)
    write("exec", "request_empty_name",
          b"\1" + exec_fields(1, 0, 0, 0, 2, 3, 0, 0, cap, 0) + b"\0a\0")


# --- ELF images (usdt, elf) ---------------------------------------------------------------------

class Elf:
    """A minimal little-endian ELF64 image: one PT_LOAD covering the file at VADDR, optional
    PT_DYNAMIC, sections laid out after the headers, section headers at the end."""
    VADDR = 0x400000

    def __init__(self, etype=2):
        self.etype = etype
        self.sections = []  # (name, type, data, flags, link, info, entsize, align)

    def add(self, name, stype, data, link=0, info=0, entsize=0, align=8):
        self.sections.append([name, stype, data, link, info, entsize, align])
        return len(self.sections)  # index (section 0 is the null one)

    def build(self, dynamic_index=None):
        self.sections.append([".shstrtab", 3, b"", 0, 0, 0, 1])
        names = b"\0"
        name_off = []
        for s in self.sections:
            name_off.append(len(names))
            names += s[0].encode() + b"\0"
        self.sections[-1][2] = names
        nph = 2 if dynamic_index else 1
        off = 64 + 56 * nph
        offsets = []
        for s in self.sections:
            align = s[6]
            off = (off + align - 1) // align * align
            offsets.append(off)
            off += len(s[2])
        shoff = (off + 7) // 8 * 8
        total = shoff + 64 * (len(self.sections) + 1)
        out = bytearray(total)
        ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
        ehdr += struct.pack("<HHIQQQIHHHHHH", self.etype, 62, 1, self.VADDR, 64, shoff, 0, 64, 56,
                            nph, 64, len(self.sections) + 1, len(self.sections))
        out[0:64] = ehdr
        ph = struct.pack("<IIQQQQQQ", 1, 5, 0, self.VADDR, self.VADDR, total, total, 0x1000)
        out[64:64 + 56] = ph
        if dynamic_index:
            i = dynamic_index - 1
            d = self.sections[i][2]
            ph = struct.pack("<IIQQQQQQ", 2, 6, offsets[i], self.VADDR + offsets[i],
                             self.VADDR + offsets[i], len(d), len(d), 8)
            out[120:176] = ph
        for s, o in zip(self.sections, offsets):
            out[o:o + len(s[2])] = s[2]
        sh = b"\0" * 64
        for s, o, n in zip(self.sections, offsets, name_off):
            sh += struct.pack("<IIQQQQIIQQ", n, s[1], 2, self.VADDR + o, o, len(s[2]), s[3], s[4],
                              s[6], s[5])
        out[shoff:] = sh
        self.offsets = offsets
        return bytes(out)


def note(pc, base, sem, provider, name, args):
    desc = struct.pack("<QQQ", pc, base, sem) + provider.encode() + b"\0" + name.encode() + b"\0"
    desc += args.encode() + b"\0"
    b = struct.pack("<III", 8, len(desc), 3) + b"stapsdt\0" + desc
    return b + b"\0" * (-len(b) % 4)


def usdt_elf(probes, with_symbols=True, with_dynamic=True, shared=False):
    """probes: (provider, name, args, has_semaphore). The layout is computed twice: first to
    learn where sections land, then with the addresses in the notes and symbols."""
    def make(addr):
        e = Elf(3 if shared else 2)
        text = b"\x90" * 32
        notes = b""
        for i, (prov, name, args, sem) in enumerate(probes):
            notes += note(addr.get("text", 0) + i, addr.get("base", 0),
                          addr.get("data", 0) + 4 * i if sem else 0, prov, name, args)
        e.add(".text", 1, text)
        e.add(".data", 1, b"\0" * 16)
        e.add(".stapsdt.base", 1, b"\0", align=1)
        e.add(".note.stapsdt", 7, notes, align=4)
        dyn_index = None
        if with_symbols:
            strtab = b"\0main\0g_counter\0"
            syms = b"\0" * 24
            syms += struct.pack("<IBBHQQ", 1, 0x12, 0, 1, addr.get("text", 0), 32)
            syms += struct.pack("<IBBHQQ", 6, 0x11, 0, 2, addr.get("data", 0), 4)
            strtab_index = len(e.sections) + 2
            e.add(".symtab", 2, syms, link=strtab_index, entsize=24)
            e.add(".strtab", 3, strtab, align=1)
        if with_dynamic:
            dynstr = b"\0libc.so.6\0$ORIGIN/lib:/opt/x\0"
            dynstr_index = e.add(".dynstr", 3, dynstr, align=1)
            dyn = struct.pack("<qQ", 1, 1) + struct.pack("<qQ", 29, 11)
            dyn += struct.pack("<qQ", 5, addr.get("dynstr", 0)) + struct.pack("<qQ", 10, len(dynstr))
            dyn += struct.pack("<qQ", 0, 0)
            dyn_index = e.add(".dynamic", 6, dyn, link=dynstr_index, entsize=16)
        img = e.build(dyn_index)
        names = [s[0] for s in e.sections]
        where = {k: Elf.VADDR + e.offsets[names.index(n)] for k, n in
                 [("text", ".text"), ("data", ".data"), ("base", ".stapsdt.base")]}
        if with_dynamic:
            where["dynstr"] = Elf.VADDR + e.offsets[names.index(".dynstr")]
        return img, where

    _, addr = make({})
    img, addr2 = make(addr)
    assert addr == addr2
    return img


def usdt_seeds():
    probes = [
        ("sample", "ints", "-4@-20(%rbp) -4@-24(%rbp)", False),
        ("sample", "regs", "8@%rdi -8@%rsi -2@%ax 1@%ah", False),
        ("sample", "global", "-4@g_counter(%rip)", False),
        ("sample", "loop__done", "8@$42 4@8(%rsp,%rdx,4) 8@8+g_counter(%rip)", True),
    ]
    write("usdt", "elf_exec", b"\0" + usdt_elf(probes))
    write("usdt", "elf_shared_nosyms", b"\0" + usdt_elf(probes[:2], with_symbols=False,
                                                        shared=True))
    write("usdt", "elf_nodynamic", b"\0" + usdt_elf(probes[2:], with_dynamic=False))
    regs = b"".join(struct.pack("<Q", 0x1000 * i + i) for i in range(24))
    regs = bytearray(regs)
    regs[7 * 8:8 * 8] = struct.pack("<Q", 0x7FFF0000)  # %rsp: the stack copy's address
    mask = struct.pack("<Q", 0x1FF | (0xFF << 16))
    stack = bytes(range(64))
    for i, spec in enumerate([
            "-4@%edi 8@-16(%rbp) -8@$42 4@8(%rsp,%rdx,4)",
            "-4@g_counter(%rip) 8@8+Stats(%rip) 2@%r9w 1@%r15b",
            "8@(%rsp) 4@16(%rsp) -1@%ch 8@0x10(%rsp,%rcx,8)",
            "8@%rax"]):
        write("usdt", "spec_%d" % i, b"\1" + spec.encode() + b"\0" + bytes(regs) + mask + stack)
    # A signed overflow (undefined behaviour) before the fix: displacements past INT64_MAX.
    write("usdt", "regress_displacement_overflow",
          b"\1" + b"8@9223372036854775807+9223372036854775807(%rsp)\0" + bytes(regs) + mask + stack)


def elf_seeds():
    def probes_elf(etype, ndesc, name="vtrace_probes"):
        e = Elf(etype)
        e.add(".rodata", 1, b"prov\0name\0main\0file.c\0")
        desc = b""
        for i in range(ndesc):
            desc += struct.pack("<IIHHIQQQQ", 0x76747062, 0, 2, 0, 10 + i, 0x400000, 0x400005,
                                0x40000A, 0x40000F)
        e.add(name, 1, desc)
        return e.build()
    write("elf", "exec_two_sites", probes_elf(2, 2))
    write("elf", "pie_one_site", probes_elf(3, 1))
    write("elf", "no_probe_section", probes_elf(2, 1, ".data"))
    write("elf", "usdt_file", usdt_elf([("p", "n", "8@%rdi", False)]))


# --- tracefs ----------------------------------------------------------------------------------

def tracefs_seeds():
    data = os.path.join(ROOT, "tests", "targets", "data")
    for f in sorted(os.listdir(data)):
        if f.endswith(".format"):
            shutil.copy(os.path.join(data, f), os.path.join(corpus("tracefs"), f))
    write("tracefs", "rel_loc_flex.format", b"""name: my_event
ID: 4242
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__rel_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;
\tfield:const char name[32];\toffset:12;\tsize:32;\tsigned:0;
\tfield:u8 buf[];\toffset:44;\tsize:0;\tsigned:0;
\tfield:long val;\toffset:48;\tsize:8;\tsigned:1;

print fmt: "msg=%s v=%s", __get_rel_str(msg), __print_symbolic(REC->val, { 0, "ZERO" }, { 0x040 + 13, "X" }, { -1, "NEG" })
""")
    # A signed overflow (undefined behaviour) before the fix: symbolic values past INT64_MAX.
    write("tracefs", "regress_symbolic_overflow.format", b"""name: x
ID: 1
print fmt: "%d", __print_symbolic(REC->v, { 0x7fffffffffffffff + 1, "A" }, { -0x8000000000000000, "B" })
""")


# --- perf -------------------------------------------------------------------------------------

PERF_SAMPLE_IP, PERF_SAMPLE_TID, PERF_SAMPLE_TIME = 1, 2, 4
PERF_SAMPLE_CPU, PERF_SAMPLE_RAW, PERF_SAMPLE_IDENTIFIER = 0x80, 0x400, 0x10000
PERF_SAMPLE_CALLCHAIN, PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER = 0x20, 0x1000, 0x2000


def perf_record(rtype, body):
    body += b"\0" * (-len(body) % 8)
    return struct.pack("<IHH", rtype, 0, 8 + len(body)) + body


def perf_control(sample_type, regs_mask, tail, avail, size_log2, max_records):
    return struct.pack("<QQIIBB", sample_type, regs_mask, tail, avail, size_log2, max_records) + \
        b"\0" * 6


def perf_seeds():
    tp = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW
    raw = struct.pack("<HBBi", 316, 0, 0, 1234) + b"comm\0\0\0\0"
    raw_field = struct.pack("<I", len(raw) + 4) + raw
    raw_field += b"\0" * (-len(raw_field) % 8)
    sample = perf_record(9, struct.pack("<IIQII", 1234, 1235, 10**9, 1, 0) + raw_field)
    lost = perf_record(2, struct.pack("<QQ", 7, 3))
    comm = perf_record(3, struct.pack("<II", 1234, 1234) + b"bash\0\0\0\0")
    ring = sample + lost + comm + sample
    write("perf", "tracepoint_samples", perf_control(tp, 0, 0, len(ring), 4, 0) + ring)
    # The same records with the tail near the end of a 256-byte ring: records wrap around.
    size = 256
    tail = size - 24
    buf = bytearray(size)
    for i, b in enumerate(ring[:size]):
        buf[(tail + i) % size] = b
    write("perf", "wrapping", perf_control(tp, 0, tail, min(len(ring), size), 2, 0) + bytes(buf))
    # A USDT uprobe sample: identifier, tid, time, user registers (di, si, sp), a stack copy.
    regs_mask = (1 << 5) | (1 << 4) | (1 << 7)
    body = struct.pack("<QIIQ", 99, 4242, 4242, 5)
    body += struct.pack("<Q", 2) + struct.pack("<QQQ", 1, 2, 0x7FFF0000)
    body += struct.pack("<Q", 32) + bytes(range(32)) + struct.pack("<Q", 24)
    usdt = perf_record(9, body)
    layout = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
        PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER
    write("perf", "usdt_sample", perf_control(layout, regs_mask, 0, len(usdt), 3, 0) + usdt)
    chain = perf_record(9, struct.pack("<QQ", 0xFFFF, 3) + struct.pack("<QQQ", 1, 2, 3))
    write("perf", "callchain", perf_control(PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN, 0, 8,
                                            len(chain), 1, 1) + b"\0" * 8 + chain)
    write("perf", "corrupt_head", perf_control(tp, 0, 0, 1 << 20, 0, 0) + sample)


# --- kvm_tsc ----------------------------------------------------------------------------------

def kvm_file(text):
    if text is None:
        return b"\xff"
    b = text.encode()
    return bytes([len(b)]) + b


def kvm_samples(pairs):
    return b"".join(struct.pack("<QQQ", *p) for p in pairs)


def kvm_seeds():
    samples = kvm_samples([(1000, 1100, 1050 - 500), (2000, 2050, 2020 - 500),
                           (5000, 5300, 5100 - 500)])
    write("kvm_tsc", "one_vcpu_offset",
          b"\0" + kvm_file("-500\n") + kvm_file(None) + kvm_file(None) + samples)
    write("kvm_tsc", "scaled_two_vcpus",
          b"\1" + kvm_file("123456\n") + kvm_file("281474976710656\n") + kvm_file("48\n") +
          kvm_file("123456\n") + kvm_file("281474976710656\n") + kvm_file("48\n") + samples)
    write("kvm_tsc", "bad_values",
          b"\2" + kvm_file("12abc") + kvm_file("-1") + kvm_file("64") + kvm_file("") +
          kvm_file("0\n") + kvm_file("0\n") + kvm_file("99999999999999999999") + kvm_file(None) +
          kvm_file("1") + samples)
    write("kvm_tsc", "nested_far",
          b"\0" + kvm_file("-99800000000\n") + kvm_file(None) + kvm_file(None) + samples)


# --- qmp --------------------------------------------------------------------------------------

def qmp_seeds():
    greeting = b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}\r\n'
    cpus = (b'{"return": [{"thread-id": 4242, "props": {"core-id": 0, "thread-id": 0, "node-id": 0, '
            b'"socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, '
            b'"target": "x86_64"}, {"thread-id": 4243, "props": {"core-id": 0, "thread-id": 0, '
            b'"socket-id": 1}, "qom-path": "/machine/unattached/device[1]", "cpu-index": 1, '
            b'"target": "x86_64"}]}\r\n')
    event = b'{"timestamp": {"seconds": 1700000000, "microseconds": 1}, "event": "STOP"}\r\n'
    write("qmp", "cpus_in_one_read", b"\xff" + greeting + b'{"return": {}}\r\n' + cpus)
    write("qmp", "event_then_cpus_small_reads", b"\x06" + event + cpus)
    write("qmp", "error", b"\x20" + b'{"error": {"class": "CommandNotFound", "desc": "x"}}\n')
    write("qmp", "status_partial", b"\x10" + b'{"return": {"status": "running", "running": true}}\n{"ret')
    # An event time whose seconds * 1e9 overflowed int64 (found by qmp_fuzz).
    write("qmp", "regress_event_time_overflow",
          b"\x06" + b'{"timestamp": {"seconds": 17000000000, "microseconds": 1}, "event": "STOP"}\r\n')


# --- vm_conf ----------------------------------------------------------------------------------

def vm_conf_seeds():
    write("vm_conf", "running_tcg", b"name=web1\ncpus=2\nmem=256\naccel=tcg\naccel_reason=/dev/kvm "
          b"exists but the CPU has no vmx/svm\nshm_id=0123456789abcdef\nboot_seconds=6.25\n"
          b"share=\n")
    write("vm_conf", "shared", b"name=db1\ncpus=1\nmem=512\naccel=kvm\naccel_reason=--accel\n"
          b"shm_id=fedcba9876543210\nboot_seconds=1.5\nshare=mbox\n")
    write("vm_conf", "hostile", b"name=x\ncpus=-1\nmem=99999999999999999999\nshm_id=../../etc/x\n"
          b"share=../../etc\nboot_seconds=nan\n=empty\nnoequals\n")


if __name__ == "__main__":
    guest_seeds()
    exec_seeds()
    symbols_seeds()
    usdt_seeds()
    elf_seeds()
    tracefs_seeds()
    perf_seeds()
    kvm_seeds()
    qmp_seeds()
    vm_conf_seeds()
