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

void send_cancel_detached(PGconn* conn, int deadline_s) {
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return;
  pid_t child = fork();
  if (child == 0) {
    if (fork() == 0) run_cancel(cancel, deadline_s > 0 ? deadline_s : 1);
    _exit(0);
  }
  if (child > 0) {
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    ereport(DEBUG1, (errmsg_internal("multidb: could not fork to send a cancel request: %m")));
  }
  PQfreeCancel(cancel);
}

}  // namespace multidb
