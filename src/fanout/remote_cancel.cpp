// send_cancel_detached(): a cancel request from a process whose only job it is.
//
// The calling process forks; the child forks again and exits at once, so the caller waits only for a
// process that is already ending and never owns the grandchild (which its parent, init or a subreaper,
// reaps). The grandchild runs no Postgres code: it closes every descriptor it inherited (the client's
// socket, the postmaster's pipes), restores default signal actions (a shutdown's SIGTERM/SIGQUIT to the
// backend's process group ends it too), arms an alarm whose default action ends it whatever libpq is
// waiting for, calls PQcancel() on the PGcancel it inherited, and leaves with _exit() so that no exit
// callback of the backend runs twice.
#include "fanout/remote_cancel.hpp"

#include "foundation/postgres.hpp"

#include <csignal>
#include <initializer_list>
#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/close_range.h>
#include <sys/syscall.h>
#endif

namespace multidb {

namespace {

void close_inherited_descriptors() {
#if defined(__linux__) && defined(SYS_close_range)
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  long limit = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (limit > 0 ? limit : 1024); fd++) close(static_cast<int>(fd));
}

[[noreturn]] void run_cancel(PGcancel* cancel, int deadline_s) {
  sigset_t none;
  sigemptyset(&none);
  for (int signal_number : {SIGALRM, SIGTERM, SIGQUIT, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE})
    std::signal(signal_number, signal_number == SIGPIPE ? SIG_IGN : SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  close_inherited_descriptors();
  alarm(static_cast<unsigned>(deadline_s));
  char ignored[256];
  PQcancel(cancel, ignored, sizeof(ignored));
  _exit(0);
}

}  // namespace

void send_cancel_detached(PGconn* conn, int deadline_s) { send_cancels_detached(&conn, 1, deadline_s); }

void send_cancels_detached(PGconn* const* conns, int count, int deadline_s) {
  if (count <= 0) return;
  // malloc, not palloc: this may run in error clean-up, and the children use it after the caller moved on.
  PGcancel** cancels = static_cast<PGcancel**>(malloc(sizeof(PGcancel*) * count));
  if (cancels == nullptr) return;
  int wanted = 0;
  for (int i = 0; i < count; i++)
    if (PGcancel* cancel = PQgetCancel(conns[i])) cancels[wanted++] = cancel;
  if (wanted > 0) {
    pid_t child = fork();
    if (child == 0) {
      if (fork() == 0) {
        // The detached process: one sender per request (each with its own alarm), then gone.
        if (wanted == 1) run_cancel(cancels[0], deadline_s > 0 ? deadline_s : 1);
        for (int i = 0; i < wanted; i++)
          if (fork() == 0) run_cancel(cancels[i], deadline_s > 0 ? deadline_s : 1);
        _exit(0);
      }
      _exit(0);
    }
    if (child > 0) {
      int status;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
    } else {
      ereport(DEBUG1, (errmsg_internal("multidb: could not fork to send a cancel request: %m")));
    }
  }
  for (int i = 0; i < wanted; i++) PQfreeCancel(cancels[i]);
  free(cancels);
}

}  // namespace multidb
