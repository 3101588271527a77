/*
 * The per-submission supervisor: pid 1 of one sandbox (bwrap --as-pid-1), it runs the tests of
 * one submission one after another, each as a fresh child with fresh pipes, and after each test
 * kills and reaps every other process of the sandbox, empties /tmp and /dev/shm, removes SysV IPC
 * objects and checks that no test changed its own scheduling or limits. Trusted code, compiled on
 * the host (sandbox.supervisor.ts); the protocol is described in sandbox.spec.md and parsed by
 * sandbox.frames.ts. Little-endian integers throughout (the host is the same machine).
 *
 * Host -> fd 0: 'T' seq stdin_len wall_ms cpu_soft cpu_hard out_cap err_cap flood_cap (u32 each),
 *               then stdin_len bytes of the test's stdin (streamed as the test reads it).
 * Host -> fd 5: 'K' seq: kill the running test (the host's CPU watchdog).
 * fd 1 -> host: frames [type u8][length u32][payload]: 'R' ready, 'O' stdout, 'E' stderr,
 *               'X' end of a test (struct end_frame), 'F' fatal reason (the supervisor then exits).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_FD 5
#define CHUNK 65536
#define KILL_NONE 0
#define KILL_WALL 1
#define KILL_OUTPUT 2
#define KILL_CPU 3
#define END_EXITED 0
#define END_SIGNALED 1
#define END_EXEC_FAILED 2
#define FLAG_STDOUT_TRUNCATED 1
#define FLAG_STDERR_TRUNCATED 2
#define FLAG_TAINTED 4

struct end_frame {
  uint32_t seq;
  int32_t kind;
  int32_t value;
  uint32_t killed;
  uint32_t flags;
  uint32_t reserved;
  uint64_t wall_us;
};

struct test_cmd {
  uint32_t seq, stdin_len, wall_ms, cpu_soft, cpu_hard, out_cap, err_cap, flood_cap;
};

/* What a test could change in pid 1 from outside (same uid): checked after every test. */
struct own_state {
  int nice;
  int policy;
  long ioprio;
  cpu_set_t affinity;
  struct rlimit limits[RLIM_NLIMITS];
};

static const char *const WIPED[] = {"/tmp", "/dev/shm"};
static mode_t wiped_modes[2];
static struct own_state initial_state;
static int sigfd = -1;
static sigset_t original_mask;
static char buffer[CHUNK];
static char reason[512];

static void write_all(int fd, const void *data, size_t length) {
  const char *p = data;
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3); /* the host is gone */
    p += n;
    length -= (size_t)n;
  }
}

static void send_frame(char type, const void *payload, uint32_t length) {
  char header[5];
  header[0] = type;
  memcpy(header + 1, &length, 4);
  struct iovec parts[2] = {{header, 5}, {(void *)payload, length}};
  size_t total = 5 + length;
  ssize_t n;
  do n = writev(1, parts, length ? 2 : 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) _exit(3);
  if ((size_t)n < total) {
    /* a short write: finish it plainly */
    if ((size_t)n < 5) {
      write_all(1, header + n, 5 - (size_t)n);
      write_all(1, payload, length);
    } else {
      write_all(1, (const char *)payload + (n - 5), total - (size_t)n);
    }
  }
}

static void fatal(const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof message) n = sizeof message - 1;
  send_frame('F', message, (uint32_t)n);
  _exit(2);
}

/* Reads exactly length bytes; 0 on a clean end of input before any byte, 1 when read. */
static int read_exact(int fd, void *data, size_t length) {
  char *p = data;
  size_t done = 0;
  while (done < length) {
    ssize_t n = read(fd, p + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && done == 0) return 0;
    if (n <= 0) _exit(3);
    done += (size_t)n;
  }
  return 1;
}

static uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void read_own_state(struct own_state *state) {
  memset(state, 0, sizeof *state);
  errno = 0;
  state->nice = getpriority(PRIO_PROCESS, 0);
  state->policy = sched_getscheduler(0);
  state->ioprio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  CPU_ZERO(&state->affinity);
  sched_getaffinity(0, sizeof state->affinity, &state->affinity);
  for (int i = 0; i < RLIM_NLIMITS; i++) getrlimit(i, &state->limits[i]);
}

static int own_state_changed(void) {
  struct own_state now;
  read_own_state(&now);
  if (now.nice != initial_state.nice) return snprintf(reason, sizeof reason, "nice changed"), 1;
  if (now.policy != initial_state.policy)
    return snprintf(reason, sizeof reason, "scheduling policy changed"), 1;
  if (now.ioprio != initial_state.ioprio)
    return snprintf(reason, sizeof reason, "io priority changed"), 1;
  if (!CPU_EQUAL(&now.affinity, &initial_state.affinity))
    return snprintf(reason, sizeof reason, "cpu affinity changed"), 1;
  for (int i = 0; i < RLIM_NLIMITS; i++) {
    if (now.limits[i].rlim_cur != initial_state.limits[i].rlim_cur ||
        now.limits[i].rlim_max != initial_state.limits[i].rlim_max)
      return snprintf(reason, sizeof reason, "resource limit %d changed", i), 1;
  }
  return 0;
}

/*
 * Empties a directory tree without following a link and without long paths: it walks with
 * directory descriptors (down by name, up by ".."), so depth is no limit. Only called when every
 * other process of the sandbox is dead, so nothing can change the tree during the walk.
 */
static int wipe(const char *root, mode_t root_mode) {
  struct stat st;
  if (lstat(root, &st) != 0 || !S_ISDIR(st.st_mode)) return -1;
  if ((st.st_mode & 07777) != root_mode && chmod(root, root_mode) != 0) return -1;
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  long depth = 0;
  long budget = 50L * 1000 * 1000;
  for (;;) {
    if (--budget < 0) return close(fd), -1;
    int copy = dup(fd);
    if (copy < 0) return close(fd), -1;
    DIR *dir = fdopendir(copy);
    if (!dir) return close(copy), close(fd), -1;
    rewinddir(dir);
    int child = -1;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
      const char *name = entry->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      if (--budget < 0) break;
      if (unlinkat(fd, name, 0) == 0) continue;
      if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        closedir(dir);
        close(fd);
        return -1;
      }
      if (unlinkat(fd, name, AT_REMOVEDIR) == 0) continue;
      /* Not a link (checked above, and nothing runs): chmod may follow the name safely. */
      fchmodat(fd, name, 0700, 0);
      child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        closedir(dir);
        close(fd);
        return -1;
      }
      break;
    }
    closedir(dir);
    if (budget < 0) return close(fd), -1;
    if (child >= 0) {
      close(fd);
      fd = child;
      depth++;
      continue;
    }
    if (depth == 0) break;
    int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    if (parent < 0) return -1;
    fd = parent;
    depth--;
  }
  close(fd);
  /* What is left must be nothing at all. */
  DIR *dir = opendir(root);
  if (!dir) return -1;
  int left = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    const char *name = entry->d_name;
    if (!(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))) left++;
  }
  closedir(dir);
  return left == 0 ? 0 : -1;
}

/* Every SysV IPC object of the sandbox's IPC namespace; all were made by the sandbox uid. */
static int remove_ipc(void) {
  static const char *const files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/sem",
                                      "/proc/sysvipc/msg"};
  int left = 0;
  for (int pass = 0; pass < 2; pass++) {
    left = 0;
    for (int kind = 0; kind < 3; kind++) {
      FILE *file = fopen(files[kind], "re");
      if (!file) continue;
      char line[512];
      int first = 1;
      while (fgets(line, sizeof line, file)) {
        if (first) {
          first = 0;
          continue;
        }
        long key;
        int id;
        if (sscanf(line, "%ld %d", &key, &id) != 2) continue;
        left++;
        if (kind == 0) shmctl(id, IPC_RMID, NULL);
        if (kind == 1) semctl(id, 0, IPC_RMID);
        if (kind == 2) msgctl(id, IPC_RMID, NULL);
      }
      fclose(file);
    }
    if (left == 0) return 0;
  }
  return -1;
}

static void kill_everything_else(void) { kill(-1, SIGKILL); }

/* Kills every other process of the pid namespace and reaps them all: as init, every orphan is ours. */
static void kill_and_reap_all(void) {
  for (;;) {
    kill_everything_else();
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == ECHILD) break;
  }
  /* Pending SIGCHLDs are stale now. */
  struct signalfd_siginfo info;
  while (read(sigfd, &info, sizeof info) > 0) {
  }
}

static void drain_control(void) {
  char scratch[256];
  while (read(CONTROL_FD, scratch, sizeof scratch) > 0) {
  }
}

static void child_exec(const struct test_cmd *cmd, int in, int out, int err, int status_fd,
                       char **argv) {
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) goto failed;
  if (status_fd != 3 && (dup2(status_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0))
    goto failed;
  if (syscall(SYS_close_range, 4, ~0U, 0) != 0) goto failed;
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &original_mask, NULL);
  struct rlimit cpu = {cmd->cpu_soft, cmd->cpu_hard};
  if (setrlimit(RLIMIT_CPU, &cpu) != 0) goto failed;
  /* POSIX message queues outlive their processes and cannot be listed without a mount. */
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_MSGQUEUE, &none) != 0) goto failed;
  setsid();
  if (chdir("/box") != 0) goto failed;
  execvp(argv[0], argv);
failed:;
  int error = errno;
  write_all(3, &error, sizeof error);
  _exit(127);
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void run_test(const struct test_cmd *cmd, char **argv) {
  int in[2], out[2], err[2], status_pipe[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
      pipe2(status_pipe, O_CLOEXEC))
    fatal("pipe: %s", strerror(errno));
  drain_control();
  uint64_t started = now_us();
  pid_t pid = fork();
  if (pid < 0) fatal("fork: %s", strerror(errno));
  if (pid == 0) child_exec(cmd, in[0], out[1], err[1], status_pipe[1], argv);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(status_pipe[1]);

  struct end_frame end = {.seq = cmd->seq};
  int exec_error = 0;
  ssize_t got;
  do got = read(status_pipe[0], &exec_error, sizeof exec_error);
  while (got < 0 && errno == EINTR);
  close(status_pipe[0]);
  int exec_failed = got == (ssize_t)sizeof exec_error;

  int child_in = in[1];
  int out_fd = out[0];
  int err_fd = err[0];
  set_nonblocking(child_in);
  set_nonblocking(out_fd);
  set_nonblocking(err_fd);
  uint64_t stdin_left = cmd->stdin_len;
  static char input[CHUNK];
  size_t input_len = 0, input_off = 0;
  if (stdin_left == 0) {
    close(child_in);
    child_in = -1;
  }
  uint64_t out_total = 0, err_total = 0;
  uint64_t deadline = started + (uint64_t)cmd->wall_ms * 1000u;
  int main_done = 0;
  int main_status = 0;
  uint64_t ended = 0;
  char control[64];
  size_t control_len = 0;

#define KILL_FOR(why)                               \
  do {                                              \
    if (end.killed == KILL_NONE) end.killed = (why); \
    kill_everything_else();                         \
  } while (0)

  while (!main_done || out_fd >= 0 || err_fd >= 0) {
    struct pollfd fds[6];
    int n = 0;
    int i_sig = n;
    fds[n++] = (struct pollfd){sigfd, POLLIN, 0};
    int i_control = n;
    fds[n++] = (struct pollfd){CONTROL_FD, POLLIN, 0};
    int i_stdin = -1, i_child_in = -1, i_out = -1, i_err = -1;
    if (stdin_left > 0 && input_off == input_len) {
      i_stdin = n;
      fds[n++] = (struct pollfd){0, POLLIN, 0};
    }
    if (child_in >= 0 && input_off < input_len) {
      i_child_in = n;
      fds[n++] = (struct pollfd){child_in, POLLOUT, 0};
    }
    if (out_fd >= 0) {
      i_out = n;
      fds[n++] = (struct pollfd){out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      i_err = n;
      fds[n++] = (struct pollfd){err_fd, POLLIN, 0};
    }
    int timeout = -1;
    if (!main_done && end.killed == KILL_NONE) {
      uint64_t now = now_us();
      timeout = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
    }
    int ready = poll(fds, (nfds_t)n, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fatal("poll: %s", strerror(errno));
    }
    if (!main_done && end.killed == KILL_NONE && now_us() >= deadline) KILL_FOR(KILL_WALL);

    if (fds[i_sig].revents) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
      int status;
      pid_t reaped;
      while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
        if (reaped == pid && !main_done) {
          main_done = 1;
          main_status = status;
          ended = now_us();
          /* The program's exit ends the test: what it left running dies now. */
          kill_everything_else();
        }
      }
    }
    if (fds[i_control].revents) {
      ssize_t r = read(CONTROL_FD, control + control_len, sizeof control - control_len);
      if (r == 0) {
        kill_and_reap_all();
        _exit(0);
      }
      if (r > 0) control_len += (size_t)r;
      size_t off = 0;
      while (control_len - off >= 5) {
        uint32_t seq;
        memcpy(&seq, control + off + 1, 4);
        if (control[off] != 'K') fatal("bad control message");
        if (seq == cmd->seq) KILL_FOR(KILL_CPU);
        off += 5;
      }
      memmove(control, control + off, control_len - off);
      control_len -= off;
    }
    if (i_stdin >= 0 && fds[i_stdin].revents) {
      size_t want = stdin_left < CHUNK ? (size_t)stdin_left : CHUNK;
      ssize_t r = read(0, input, want);
      if (r == 0) _exit(3);
      if (r > 0) {
        stdin_left -= (uint64_t)r;
        if (child_in >= 0) {
          input_len = (size_t)r;
          input_off = 0;
        }
      }
    }
    if (i_child_in >= 0 && fds[i_child_in].revents) {
      ssize_t w = write(child_in, input + input_off, input_len - input_off);
      if (w > 0) input_off += (size_t)w;
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        /* The program closed its stdin: the rest of the input is read and dropped. */
        close(child_in);
        child_in = -1;
        input_off = input_len = 0;
      }
    }
    if (child_in >= 0 && stdin_left == 0 && input_off == input_len) {
      close(child_in);
      child_in = -1;
    }
    if (i_out >= 0 && fds[i_out].revents) {
      ssize_t r = read(out_fd, buffer, CHUNK);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        close(out_fd);
        out_fd = -1;
      } else if (r > 0) {
        uint64_t before = out_total;
        out_total += (uint64_t)r;
        if (before < cmd->out_cap) {
          uint64_t keep = cmd->out_cap - before < (uint64_t)r ? cmd->out_cap - before : (uint64_t)r;
          send_frame('O', buffer, (uint32_t)keep);
        }
        if (out_total > cmd->out_cap) {
          end.flags |= FLAG_STDOUT_TRUNCATED;
          KILL_FOR(KILL_OUTPUT);
          close(out_fd);
          out_fd = -1;
        }
      }
    }
    if (i_err >= 0 && fds[i_err].revents) {
      ssize_t r = read(err_fd, buffer, CHUNK);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        close(err_fd);
        err_fd = -1;
      } else if (r > 0) {
        uint64_t before = err_total;
        err_total += (uint64_t)r;
        if (before < cmd->err_cap) {
          uint64_t keep = cmd->err_cap - before < (uint64_t)r ? cmd->err_cap - before : (uint64_t)r;
          send_frame('E', buffer, (uint32_t)keep);
        }
        if (err_total > cmd->err_cap) end.flags |= FLAG_STDERR_TRUNCATED;
        if (err_total > cmd->flood_cap) {
          KILL_FOR(KILL_OUTPUT);
          close(err_fd);
          err_fd = -1;
        }
      }
    }
  }
#undef KILL_FOR
  if (child_in >= 0) close(child_in);
  kill_and_reap_all();
  /* The rest of this test's input, unread by the program, must not be taken for a command. */
  while (stdin_left > 0) {
    size_t want = stdin_left < CHUNK ? (size_t)stdin_left : CHUNK;
    ssize_t r = read(0, input, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(3);
    stdin_left -= (uint64_t)r;
  }

  end.wall_us = ended - started;
  if (exec_failed) {
    end.kind = END_EXEC_FAILED;
    end.value = exec_error;
  } else if (WIFSIGNALED(main_status)) {
    end.kind = END_SIGNALED;
    end.value = WTERMSIG(main_status);
  } else {
    end.kind = END_EXITED;
    end.value = WEXITSTATUS(main_status);
  }
  reason[0] = 0;
  for (int i = 0; i < 2; i++) {
    if (wipe(WIPED[i], wiped_modes[i]) != 0) {
      snprintf(reason, sizeof reason, "%s could not be emptied", WIPED[i]);
      break;
    }
  }
  if (!reason[0] && remove_ipc() != 0) snprintf(reason, sizeof reason, "SysV IPC left");
  if (!reason[0]) own_state_changed();
  if (reason[0]) end.flags |= FLAG_TAINTED;
  send_frame('X', &end, sizeof end);
  if (reason[0]) fatal("sandbox no longer fresh: %s", reason);
}

int main(int argc, char **argv) {
  /* First: a test running as the same uid must not open the fds or memory of pid 1. */
  if (prctl(PR_SET_DUMPABLE, 0) != 0) fatal("PR_SET_DUMPABLE: %s", strerror(errno));
  if (argc < 3 || strcmp(argv[1], "--") != 0) fatal("usage: supervise -- program...");
  if (getpid() != 1) fatal("not pid 1 of the sandbox");
  if (syscall(SYS_close_range, 3, CONTROL_FD - 1, 0) != 0 ||
      syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0) != 0)
    fatal("close_range: %s", strerror(errno));
  if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) != 0) fatal("no control descriptor");
  set_nonblocking(CONTROL_FD);
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, &original_mask) != 0) fatal("sigprocmask");
  sigdelset(&original_mask, SIGCHLD);
  sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd < 0) fatal("signalfd: %s", strerror(errno));
  for (int i = 0; i < 2; i++) {
    struct stat st;
    if (lstat(WIPED[i], &st) != 0 || !S_ISDIR(st.st_mode)) fatal("%s is missing", WIPED[i]);
    wiped_modes[i] = st.st_mode & 07777;
  }
  read_own_state(&initial_state);
  send_frame('R', NULL, 0);

  for (;;) {
    char type;
    if (!read_exact(0, &type, 1)) break;
    if (type != 'T') fatal("bad command");
    struct test_cmd cmd;
    read_exact(0, &cmd, sizeof cmd);
    run_test(&cmd, argv + 2);
  }
  kill_and_reap_all();
  return 0;
}
