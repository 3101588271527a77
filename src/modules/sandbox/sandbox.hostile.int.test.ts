import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  leftoverCgroups,
  newMarker,
  openTestSandbox,
  processesWithMarker,
  reportMissingSandbox,
  runCompiled,
  runPython,
  runStep,
  stepDirectories,
  type TestSandbox,
  TIGHT_LIMITS,
  text,
} from './sandbox.test-utils.ts';
import type { RunResult } from './sandbox.types.ts';

const MiB = 1024 * 1024;
/** Slack for timers and for killing and reaping a whole tree on two busy cores. */
const MARGIN_MS = 750;
const opened = await openTestSandbox();
/** Every hostile program runs both ways a run can start: a sandbox of its own, or one started ahead. */
const modes: Array<[string, Extract<TestSandbox, { available: true }>]> = opened.available
  ? [
      ['in a sandbox started for the run', opened],
      ['in a sandbox started ahead of the run', { ...opened, startedAhead: true }],
    ]
  : [];
if (opened.available) afterAll(() => opened.host.close());

/** A Python prelude for raw system calls: `call(nr, *args)` returns the errno name or 'ok'. */
const SYSCALL_PRELUDE = `
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return 'ok' if result != -1 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
`;

/** A Python prelude: `attempt(fn)` returns 'ok', the errno name, or the exception's name. */
const ATTEMPT_PRELUDE = `
import errno, json, os
def attempt(fn):
    try:
        value = fn()
        return 'ok' if value is None else ('ok:' + str(value))
    except OSError as error:
        return errno.errorcode.get(error.errno, type(error).__name__)
    except Exception as error:
        return type(error).__name__
`;

describe.each(modes)('hostile programs, %s', (_mode, sandbox) => {
  const { host } = sandbox;
  let marker = '';

  beforeEach(() => {
    marker = newMarker();
  });

  afterEach(() => {
    // Whatever a test did, afterwards nothing of it is left on the host.
    expect(processesWithMarker(marker), 'stray processes').toEqual([]);
    expect(leftoverCgroups(host), 'leftover cgroups').toEqual([]);
    expect(stepDirectories(host), 'leftover work directories').toEqual([]);
    expect(
      readdirSync(tmpdir()).filter((name) => name.includes(marker)),
      'files in the host /tmp',
    ).toEqual([]);
  });

  const withinWall = (result: RunResult, wallMs: number) =>
    expect(result.wallMs).toBeLessThanOrEqual(wallMs + MARGIN_MS);

  it('fork bomb: capped by the pids limit and stopped at the CPU limit', async () => {
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: '#include <unistd.h>\nint main(void) { for (;;) fork(); }\n',
      limits: { cpuMs: 1000, wallMs: 5000 },
    });
    expect(result.verdict).toBe('time_limit_exceeded');
    expect(result.limitExceeded).toBe('cpu');
    expect(result.cpuMs).toBeLessThanOrEqual(1000 + 250);
    withinWall(result, 5000);
  });

  it('fork until refused: no more processes than the limit', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: `
import os, signal, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError as error:
    print(children, error.errno)
`,
    });
    expect(result.verdict).toBe('ok');
    const [children, errorNumber] = text(result.stdout).trim().split(' ').map(Number);
    expect(errorNumber).toBe(11); // EAGAIN
    expect(children).toBeGreaterThan(0);
    expect(children).toBeLessThan(TIGHT_LIMITS.processes);
  });

  it('memory bomb: the cgroup stops it at the memory limit', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: 'chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n',
    });
    expect(result.verdict).toBe('memory_limit_exceeded');
    expect(result.limitExceeded).toBe('memory');
    expect(result.memoryBytes).toBeGreaterThan(TIGHT_LIMITS.memoryBytes * 0.9);
    expect(result.memoryBytes).toBeLessThanOrEqual(TIGHT_LIMITS.memoryBytes);
    withinWall(result, TIGHT_LIMITS.wallMs);
  });

  it('memory bomb in Node: V8 is judged by what it really uses', async () => {
    const { result } = await runStep({
      sandbox,
      marker,
      argv: ['/usr/bin/node', '--max-old-space-size=128', 'main.js'],
      files: {
        'main.js': {
          content: 'const keep = []; for (;;) keep.push(Buffer.alloc(1 << 20, 1));',
        },
      },
      limits: { memoryBytes: 128 * MiB },
    });
    expect(result.verdict).toBe('memory_limit_exceeded');
    expect(result.memoryBytes).toBeLessThanOrEqual(128 * MiB);
  });

  it('thread bomb: thread creation is refused at the limit, a runtime error', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: `
import threading, time
started = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        started += 1
finally:
    print(started)
`,
    });
    expect(result.verdict).toBe('runtime_error');
    expect(result.limitExceeded).toBe('processes');
    expect(Number(text(result.stdout))).toBeLessThan(TIGHT_LIMITS.processes);
    expect(text(result.stderr)).toMatch(/can't start new thread/);
  });

  it('infinite loop: stopped at the CPU limit, measured by the cgroup', async () => {
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: 'int main(void) { for (;;) ; }\n',
      limits: { cpuMs: 1000, wallMs: 5000 },
    });
    expect(result).toMatchObject({ verdict: 'time_limit_exceeded', limitExceeded: 'cpu' });
    expect(result.cpuMs).toBeGreaterThanOrEqual(1000);
    // The watchdog looks every 10 ms near the limit; a loaded host can delay its timer a little.
    expect(result.cpuMs).toBeLessThanOrEqual(1000 + 200);
  });

  it('sleep forever: stopped at the wall limit though it uses no CPU', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: 'import time\ntime.sleep(3600)\n',
      limits: { wallMs: 1000 },
    });
    expect(result).toMatchObject({ verdict: 'time_limit_exceeded', limitExceeded: 'wall' });
    expect(result.wallMs).toBeGreaterThanOrEqual(1000);
    withinWall(result, 1000);
    expect(result.cpuMs).toBeLessThan(500);
  });

  it('output flood: reading stops at the cap and the run is stopped', async () => {
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source:
        '#include <stdio.h>\nint main(void) { for (;;) fputs("flood flood flood flood\\n", stdout); }\n',
    });
    expect(result).toMatchObject({
      verdict: 'output_limit_exceeded',
      limitExceeded: 'output',
      stdoutTruncated: true,
    });
    expect(result.stdout.length).toBe(TIGHT_LIMITS.outputBytes);
    withinWall(result, TIGHT_LIMITS.wallMs);
  });

  it('stderr flood: stderr is capped and a flood past the output cap stops the run', async () => {
    const flood = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source:
        '#include <stdio.h>\nint main(void) { for (;;) fputs("error error error\\n", stderr); }\n',
    });
    expect(flood).toMatchObject({ verdict: 'output_limit_exceeded', stderrTruncated: true });
    expect(flood.stderr.length).toBe(TIGHT_LIMITS.stderrBytes);
    withinWall(flood, TIGHT_LIMITS.wallMs);

    const chatty = await runPython({
      sandbox,
      marker,
      source: 'import sys\nsys.stderr.write("x" * 40000)\nprint("answer")\n',
    });
    expect(chatty).toMatchObject({ verdict: 'ok', stderrTruncated: true, stdoutTruncated: false });
    expect(chatty.stderr.length).toBe(TIGHT_LIMITS.stderrBytes);
    expect(text(chatty.stdout)).toBe('answer\n');
  });

  it('filling /tmp and /dev/shm: each is a small private tmpfs that runs out', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: `
import errno, os
report = []
for directory in ['/tmp', '/dev/shm']:
    written = 0
    try:
        with open(os.path.join(directory, 'fill'), 'wb') as f:
            while True:
                f.write(b'x' * 65536)
                f.flush()
                written += 65536
    except OSError as error:
        report.append(f'{directory} {errno.errorcode[error.errno]} {written}')
print('\\n'.join(report))
`,
      limits: { fileSizeBytes: 64 * MiB, tmpBytes: 4 * MiB },
    });
    expect(result.verdict).toBe('ok');
    const lines = text(result.stdout).trim().split('\n');
    for (const [index, directory] of ['/tmp', '/dev/shm'].entries()) {
      const [name, error, written] = lines[index]!.split(' ');
      expect(name).toBe(directory);
      expect(error).toBe('ENOSPC');
      expect(Number(written)).toBeLessThanOrEqual(4 * MiB);
    }
  });

  it('a file larger than the file size limit: SIGXFSZ, a runtime error', async () => {
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: `#include <stdio.h>
int main(void) {
  FILE *f = fopen("/tmp/big", "w");
  static char block[65536];
  for (int i = 0; i < 256; i++) fwrite(block, 1, sizeof block, f);
  fclose(f);
  return 0;
}`,
      limits: { fileSizeBytes: 1 * MiB, tmpBytes: 8 * MiB },
    });
    expect(result).toMatchObject({
      verdict: 'runtime_error',
      signal: 'SIGXFSZ',
      limitExceeded: 'file_size',
    });
  });

  describe('host secrets', () => {
    let dataDir = '';
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    beforeEach(async () => {
      // A world-readable secret: only the mount namespace keeps it from the program.
      dataDir = await mkdtemp(join(tmpdir(), 'assay-data-'));
      await writeFile(join(dataDir, 'jwt-secret'), secret, { mode: 0o644 });
      process.env.ASSAY_WORKER_SECRET = secret;
    });
    afterEach(async () => {
      delete process.env.ASSAY_WORKER_SECRET;
      await rm(dataDir, { recursive: true, force: true });
    });

    it("cannot read the app's .env, DATA_DIR, /etc/shadow or the worker's environment", async () => {
      const paths = [
        join(dataDir, 'jwt-secret'),
        '/work/main/.env',
        join(process.cwd(), '.env'),
        join(process.cwd(), 'package.json'),
        '/etc/shadow',
        '/etc/passwd',
        '/root/.bashrc',
        '/proc/1/environ',
      ];
      const result = await runPython({
        sandbox,
        marker,
        stdin: JSON.stringify(paths),
        source: `${ATTEMPT_PRELUDE}
import sys
paths = json.load(sys.stdin)
report = {path: attempt(lambda path=path: open(path).read()) for path in paths}
environments = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            environments.append(open(f'/proc/{pid}/environ', 'rb').read().decode('latin1'))
        except OSError:
            pass
print(json.dumps({'files': report, 'env': sorted(os.environ), 'proc': environments}))
`,
      });
      expect(result.verdict).toBe('ok');
      expect(text(result.stdout) + text(result.stderr)).not.toContain(secret);
      const report = JSON.parse(text(result.stdout)) as {
        files: Record<string, string>;
        env: string[];
      };
      for (const path of paths.slice(0, 7)) expect(report.files[path], path).toBe('ENOENT');
      // bwrap adds PWD (the work directory); nothing of the host's environment is there.
      expect(report.env).toEqual(['ASSAY_MARK', 'HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']);
    });

    it("cannot read another run's files, even by their host path", async () => {
      const other = runPython({
        sandbox,
        marker,
        source: 'import time\ntime.sleep(1.5)\nprint(sorted(__import__("os").listdir(".")))\n',
        limits: { wallMs: 5000 },
      });
      // The other run's work directory while it runs, as the host sees it.
      let otherDir: string | undefined;
      for (let tries = 0; tries < 100 && !otherDir; tries += 1) {
        otherDir = stepDirectories(host)[0];
        if (!otherDir) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const otherPath = join(host.workRoot, otherDir ?? 'missing');
      const prying = await runPython({
        sandbox,
        marker,
        stdin: JSON.stringify([otherPath, host.workRoot]),
        source: `${ATTEMPT_PRELUDE}
import sys
other, root = json.load(sys.stdin)
print(json.dumps([attempt(lambda: os.listdir(other)), attempt(lambda: os.listdir(root)),
                  attempt(lambda: open(other + '/main.py').read()), attempt(lambda: os.listdir('/box'))]))
`,
      });
      const otherResult = await other;
      expect(otherDir).toBeDefined();
      expect(JSON.parse(text(prying.stdout))).toEqual([
        'ENOENT',
        'ENOENT',
        'ENOENT',
        "ok:['main.py']",
      ]);
      expect(otherResult.verdict).toBe('ok');
      expect(text(otherResult.stdout)).toBe("['main.py']\n");
    });
  });

  it('cannot write outside /tmp: the work dir, the toolchain and / are read-only', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'assay-data-'));
    try {
      const targets = [
        '/box/planted',
        '/usr/planted',
        '/usr/bin/python3',
        '/etc/planted',
        '/planted',
        '/dev/planted',
        '/proc/sys/kernel/hostname',
        join(dataDir, 'planted'),
        `/tmp/${marker}`,
      ];
      const result = await runPython({
        sandbox,
        marker,
        stdin: JSON.stringify(targets),
        source: `${ATTEMPT_PRELUDE}
import sys
targets = json.load(sys.stdin)
print(json.dumps({path: attempt(lambda path=path: open(path, 'w').write('x') and None) for path in targets}))
`,
      });
      expect(result.verdict).toBe('ok');
      const report = JSON.parse(text(result.stdout)) as Record<string, string>;
      for (const path of targets.slice(0, 7)) expect(report[path], path).toMatch(/EROFS|EACCES/);
      expect(report[join(dataDir, 'planted')]).toBe('ENOENT');
      // Its own /tmp is writable, and private: the host's /tmp is untouched (checked after each test).
      expect(report[`/tmp/${marker}`]).toBe('ok');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a symlink or FIFO planted in a writable work dir is neither followed nor opened', async () => {
    const victimDir = await mkdtemp(join(tmpdir(), 'assay-victim-'));
    const victim = join(victimDir, 'victim.txt');
    await writeFile(victim, 'host data');
    await mkdir(join(victimDir, 'inner'));
    await writeFile(join(victimDir, 'inner', 'keep.txt'), 'keep');
    try {
      // A compile step's directory is writable; the "compiler" here plants links where the
      // harness looks for its output, and links to host paths that a careless cleanup would follow.
      const PLANT = `
import json, os, sys
paths = json.load(sys.stdin)
os.symlink(paths['victim'], 'main')
os.symlink(paths['victimDir'], 'dir')
os.symlink('/box', 'loop')
os.mkfifo('fifo')
os.makedirs('deep/a/b')
os.symlink(paths['victimDir'], 'deep/a/b/up')
`;
      const plant = (artifact: string) =>
        runStep({
          sandbox,
          marker,
          kind: 'compile',
          argv: ['/usr/bin/python3', '-B', '-c', PLANT],
          files: { 'main.c': { content: 'int main(void) { return 0; }' } },
          stdin: JSON.stringify({ victim, victimDir }),
          collect: { names: [artifact], maxBytes: MiB },
        });
      for (const artifact of ['main', 'fifo', 'dir']) {
        const { result, artifacts } = await plant(artifact);
        expect(result.verdict, artifact).toBe('compile_error');
        expect(text(result.stderr), artifact).toContain(`${artifact}: not_regular`);
        expect(artifacts).toEqual({});
      }
      expect(await readFile(victim, 'utf8')).toBe('host data');
      expect(readdirSync(victimDir).sort()).toEqual(['inner', 'victim.txt']);
      expect(readFileSync(join(victimDir, 'inner', 'keep.txt'), 'utf8')).toBe('keep');
    } finally {
      await rm(victimDir, { recursive: true, force: true });
    }
  });

  describe('network', () => {
    const servers: Server[] = [];
    let connections = 0;
    const listen = (hostName: string) =>
      new Promise<number>((resolve) => {
        const server = createServer((socket) => {
          connections += 1;
          socket.destroy();
        });
        servers.push(server);
        server.listen(0, hostName, () => resolve((server.address() as { port: number }).port));
      });
    afterAll(async () => {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    });

    it('cannot reach 127.0.0.1:5432, :6379, host services or resolve a name', async () => {
      const loopbackPort = await listen('127.0.0.1');
      const anyPort = await listen('0.0.0.0');
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
      const targets: [string, number][] = [
        ['127.0.0.1', 5432],
        ['127.0.0.1', 6379],
        ['127.0.0.1', 3306],
        ['127.0.0.1', loopbackPort],
        ['127.0.0.1', anyPort],
        ...(external ? ([[external, anyPort]] as [string, number][]) : []),
        ['1.1.1.1', 53],
      ];
      const result = await runPython({
        sandbox,
        marker,
        stdin: JSON.stringify(targets),
        source: `${ATTEMPT_PRELUDE}
import socket, sys
def connect(host, port):
    with socket.create_connection((host, port), timeout=0.5):
        pass
report = {f'{h}:{p}': attempt(lambda h=h, p=p: connect(h, p)) for h, p in json.load(sys.stdin)}
report['dns'] = attempt(lambda: socket.getaddrinfo('example.com', 80) and None)
print(json.dumps(report))
`,
      });
      expect(result.verdict).toBe('ok');
      const report = JSON.parse(text(result.stdout)) as Record<string, string>;
      for (const [target, outcome] of Object.entries(report)) {
        expect(outcome, target).not.toBe('ok');
        expect(outcome, target).toMatch(/ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|gaierror/);
      }
      expect(connections).toBe(0);
    });
  });

  it('a background process left running after exit is killed with the run', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: `
import os, subprocess, time
# A daemon that escapes into its own session, and a child that keeps stdout open.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
subprocess.Popen(['/usr/bin/sleep', '60'])
print('main exits')
`,
      limits: { wallMs: 5000 },
    });
    expect(result).toMatchObject({ verdict: 'ok', exitCode: 0 });
    expect(text(result.stdout)).toBe('main exits\n');
    // Not held until the wall limit by the child holding stdout.
    expect(result.wallMs).toBeLessThan(2000);
  });

  it('cannot kill or trace the test runner or another sandbox run', async () => {
    const neighbour = runPython({
      sandbox,
      marker,
      source: 'import time\ntime.sleep(1.5)\nprint("survived")\n',
      limits: { wallMs: 5000 },
    });
    const prying = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
      runPython({
        sandbox,
        marker,
        stdin: JSON.stringify({ runner: process.pid, parent: process.ppid }),
        source: `${SYSCALL_PRELUDE}
import signal, sys
pids = json.load(sys.stdin)
def kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
        return 'ok'
    except OSError as error:
        return errno.errorcode[error.errno]
report = {
    'kill runner': kill(pids['runner']),
    'kill parent': kill(pids['parent']),
    'ptrace attach runner': call(101, 16, pids['runner'], 0, 0),
    'ptrace traceme': call(101, 0, 0, 0, 0),
    'process_vm_readv': call(310, pids['runner'], 0, 0, 0, 0, 0),
    'visible pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
}
report['kill everyone'] = kill(-1)  # everyone it may signal: nobody outside its own sandbox
print(json.dumps(report))
`,
      }),
    );
    const [survivor, result] = await Promise.all([neighbour, prying]);
    expect(result.verdict).toBe('ok');
    const report = JSON.parse(text(result.stdout)) as Record<string, unknown>;
    expect(report['kill everyone']).toBe('ESRCH');
    expect(report['kill runner']).toBe('ESRCH');
    expect(report['kill parent']).toBe('ESRCH');
    expect(report['ptrace attach runner']).toBe('EPERM');
    expect(report['ptrace traceme']).toBe('EPERM');
    expect(report.process_vm_readv).toBe('EPERM');
    // Only bwrap's init and the program itself exist in its pid namespace.
    expect((report['visible pids'] as number[]).length).toBeLessThanOrEqual(3);
    expect(survivor.verdict).toBe('ok');
    expect(text(survivor.stdout)).toBe('survived\n');
  });

  it('runs unprivileged, without capabilities, under seccomp, without namespaces to make', async () => {
    const result = await runPython({
      sandbox,
      marker,
      source: `${SYSCALL_PRELUDE}
import socket
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
limits = {line[:26].strip(): line[26:47].strip() + ' ' + line[47:68].strip()
          for line in open('/proc/self/limits').read().splitlines()[1:]}
print(json.dumps({
    'limits': {name: limits[name] for name in
               ['Max open files', 'Max file size', 'Max core file size', 'Max cpu time']},
    'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),
    'CapEff': status['CapEff'].strip(), 'CapBnd': status['CapBnd'].strip(),
    'NoNewPrivs': status['NoNewPrivs'].strip(), 'Seccomp': status['Seccomp'].strip(),
    'hostname': socket.gethostname(),
    'bpf': call(321, 0, 0, 0),
    'perf_event_open': call(298, 0, 0, -1, -1, 0),
    'keyctl': call(250, 0, 0, 0, 0, 0),
    'add_key': call(248, 0, 0, 0, 0, 0),
    'io_uring_setup': call(425, 1, 0),
    'mount': call(165, 0, 0, 0, 0, 0),
    'umount2': call(166, 0, 0),
    'unshare user': call(272, 0x10000000),
    'unshare net': call(272, 0x40000000),
    'setns': call(308, 0, 0),
    'userfaultfd': call(323, 0),
    'init_module': call(175, 0, 0, 0),
    'reboot': call(169, 0, 0, 0, 0),
    'personality': call(135, 0x0040000),
    'personality query': call(135, 0xffffffff),
    'getpid': call(39),
}))
`,
    });
    expect(result.verdict).toBe('ok');
    const report = JSON.parse(text(result.stdout)) as Record<string, unknown>;
    expect(report).toMatchObject({
      uid: 65534,
      gid: 65534,
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
      hostname: 'sandbox',
      'personality query': 'ok',
      getpid: 'ok',
    });
    expect(report.groups).toEqual([]);
    expect(report.limits).toEqual({
      'Max open files': '64 64',
      'Max file size': `${TIGHT_LIMITS.fileSizeBytes} ${TIGHT_LIMITS.fileSizeBytes}`,
      'Max core file size': '0 0',
      'Max cpu time': '2 3',
    });
    for (const name of [
      'bpf',
      'perf_event_open',
      'keyctl',
      'add_key',
      'io_uring_setup',
      'mount',
      'umount2',
      'unshare user',
      'unshare net',
      'setns',
      'userfaultfd',
      'init_module',
      'reboot',
      'personality',
    ]) {
      expect(report[name], name).toBe('EPERM');
    }
  });

  describe('compile-time bombs', () => {
    const compileLimits = { cpuMs: 2000, wallMs: 4000, memoryBytes: 256 * MiB };

    it('#include "/dev/random" ends as a compile error within the compile limits', async () => {
      const outcome = await sandbox.service.prepare({
        language: 'c',
        source: '#include "/dev/random"\nint main(void) { return 0; }\n',
        limits: compileLimits,
      });
      expect(outcome.ok).toBe(false);
      expect(outcome.compile?.verdict).toBe('compile_error');
      expect(outcome.compile!.wallMs).toBeLessThanOrEqual(compileLimits.wallMs + MARGIN_MS);
      expect(outcome.compile!.memoryBytes).toBeLessThanOrEqual(compileLimits.memoryBytes);
    });

    it('a template explosion ends as a compile error at a compile limit', async () => {
      const outcome = await sandbox.service.prepare({
        language: 'cpp',
        source: `template <int N, unsigned long M> struct T {
  static const unsigned long v = T<N - 1, 2 * M>::v + T<N - 1, 2 * M + 1>::v;
};
template <unsigned long M> struct T<0, M> { static const unsigned long v = 1; };
unsigned long x = T<40, 1>::v;
int main() { return 0; }
`,
        limits: compileLimits,
      });
      expect(outcome.ok).toBe(false);
      expect(outcome.compile?.verdict).toBe('compile_error');
      expect(['cpu', 'wall', 'memory']).toContain(outcome.compile?.limitExceeded);
      expect(outcome.compile!.wallMs).toBeLessThanOrEqual(compileLimits.wallMs + MARGIN_MS);
      expect(outcome.compile!.cpuMs).toBeLessThanOrEqual(compileLimits.cpuMs + 250);
      expect(outcome.compile!.memoryBytes).toBeLessThanOrEqual(compileLimits.memoryBytes);
    });
  });

  it('the host is as it was: no file, process or cgroup of any run remains', () => {
    expect(existsSync(host.workRoot)).toBe(true);
    expect(stepDirectories(host)).toEqual([]);
    expect(leftoverCgroups(host)).toEqual([]);
  });
});

if (!opened.available) reportMissingSandbox('hostile programs', opened.reason);
