/*
 * spawn.c: how a handler program is started, for exec and served handlers
 * alike. No shell: the command line is split on blanks and run with
 * execve. The child gets a cleaned environment (an allow-list), only the
 * descriptors it is given, resource limits, the configured user and
 * directory, its own process group, and it dies with the thread that
 * started it (PR_SET_PDEATHSIG). An exec failure comes back over a
 * close-on-exec pipe (git's run-command.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker.h"

int
spawn_prepare(const struct task_conf *tc, const char *const *vars,
    struct spawn_plan *sp, char *err, size_t errsz)
{
	char names[512], *name, *save = NULL, *v;
	struct passwd *pw;
	int n = 0, i;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->cmd, sizeof(sp->cmd), "%s", tc->exec);
	if (split_words(sp->cmd, sp->argv, SPAWN_ARGV_MAX) == 0) {
		snprintf(err, errsz, "empty exec command");
		return -1;
	}
	/* The environment: an allow-list, nothing inherited by default. */
	snprintf(sp->envbuf[n++], sizeof(sp->envbuf[0]),
	    "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(sp->envbuf[n++], sizeof(sp->envbuf[0]), "LANG=C.UTF-8");
	for (i = 0; vars != NULL && vars[i] != NULL && n < SPAWN_ENV_MAX; i++)
		snprintf(sp->envbuf[n++], sizeof(sp->envbuf[0]), "%s",
		    vars[i]);
	snprintf(names, sizeof(names), "%s", tc->env);
	for (name = strtok_r(names, " \t,", &save); name && n < SPAWN_ENV_MAX;
	    name = strtok_r(NULL, " \t,", &save))
		if ((v = getenv(name)) != NULL)
			snprintf(sp->envbuf[n++], sizeof(sp->envbuf[0]), "%s=%s",
			    name, v);
	for (i = 0; i < n; i++)
		sp->envp[i] = sp->envbuf[i];
	sp->envp[n] = NULL;
	if (tc->user[0] != '\0') {
		if ((pw = getpwnam(tc->user)) == NULL) {
			snprintf(err, errsz, "exec: user \"%s\" does not exist",
			    tc->user);
			return -1;
		}
		sp->uid = pw->pw_uid;
		sp->gid = pw->pw_gid;
		sp->ngroups = SPAWN_GROUPS_MAX;
		if (getgrouplist(tc->user, pw->pw_gid, sp->groups,
		    &sp->ngroups) == -1)
			sp->ngroups = 0;
		sp->switch_user = 1;
	}
	return 0;
}

/* Between fork and exec: async-signal-safe calls only. fds[i] becomes
 * descriptor i; the exec-error pipe ep becomes descriptor nfds, closed on
 * exec. */
static void __attribute__((noreturn))
child(const struct task_conf *tc, const struct spawn_plan *sp,
    const int *fds, int nfds, int ep, pid_t parent)
{
	int moved[SPAWN_FDS_MAX];
	struct rlimit rl;
	sigset_t none;
	int e, fd, i;

	setpgid(0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent went before PR_SET_PDEATHSIG took. */
	if (getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Out of the way first, so that no target clobbers a source. */
	for (i = 0; i < nfds; i++)
		if ((moved[i] = fcntl(fds[i], F_DUPFD, 10 + SPAWN_FDS_MAX)) ==
		    -1)
			goto fail;
	if ((ep = fcntl(ep, F_DUPFD, 10 + SPAWN_FDS_MAX)) == -1)
		goto fail;
	for (i = 0; i < nfds; i++)
		if (dup2(moved[i], i) == -1)
			goto fail;
	if (dup2(ep, nfds) == -1)
		goto fail;
	ep = nfds;
	(void)fcntl(ep, F_SETFD, FD_CLOEXEC);
	/* Nothing else leaks into the program. */
	for (fd = nfds + 1; fd < 1024; fd++)
		(void)close(fd);
	if (tc->rlimit_cpu_s > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)tc->rlimit_cpu_s;
		if (setrlimit(RLIMIT_CPU, &rl) == -1)
			goto fail;
	}
	if (tc->rlimit_as_mb > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)tc->rlimit_as_mb << 20;
		if (setrlimit(RLIMIT_AS, &rl) == -1)
			goto fail;
	}
	if (tc->rlimit_nofile > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)tc->rlimit_nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			goto fail;
	}
	if (tc->cwd[0] != '\0' && chdir(tc->cwd) == -1)
		goto fail;
	if (sp->switch_user && (setgroups((size_t)sp->ngroups,
	    sp->groups) == -1 || setgid(sp->gid) == -1 ||
	    setuid(sp->uid) == -1))
		goto fail;
	execve(sp->argv[0], sp->argv, sp->envp);
fail:
	e = errno;
	(void)!write(ep, &e, sizeof(e));
	_exit(127);
}

pid_t
spawn_start(const struct task_conf *tc, const struct spawn_plan *sp,
    const int *fds, int nfds, char *err, size_t errsz)
{
	int pe[2], child_errno = 0, status;
	pid_t pid, self = getpid();
	ssize_t r;

	if (nfds > SPAWN_FDS_MAX) {
		snprintf(err, errsz, "exec: too many descriptors");
		return -1;
	}
	if (pipe2(pe, O_CLOEXEC) == -1) {
		snprintf(err, errsz, "exec: pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errsz, "exec: fork: %s", strerror(errno));
		close(pe[0]);
		close(pe[1]);
		return -1;
	}
	if (pid == 0)
		child(tc, sp, fds, nfds, pe[1], self);
	/* Also here, so that a kill of the group right away finds it. */
	(void)setpgid(pid, pid);
	close(pe[1]);
	do
		r = read(pe[0], &child_errno, sizeof(child_errno));
	while (r == -1 && errno == EINTR);
	close(pe[0]);
	if (r == sizeof(child_errno)) {
		(void)waitpid(pid, &status, 0);
		snprintf(err, errsz, "exec \"%s\": %s", sp->argv[0],
		    strerror(child_errno));
		return -1;
	}
	return pid;
}

void
spawn_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
