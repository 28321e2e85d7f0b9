/* worker.h: tq-worker's private structures. */
#ifndef TQ_WORKER_H
#define TQ_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"
#include "util.h"

/* What a handler sees. */
struct hctx {
	const char	*name;
	const char	*queue;
	const void	*payload;
	size_t		 len;
	unsigned	 attempt;
	unsigned	 max_attempts;
	unsigned	 timeout_ms;	/* the task's own limit; 0: none */
	char		 id[UUID_STRLEN + 1];
	struct buf	*result;
	char		 error[1024];
	volatile sig_atomic_t *cancel;	/* set when the task must stop */
	/* Reports progress (0..100) and a short message; thread-safe. */
	void		(*progress)(struct hctx *, unsigned pct, const char *msg);
	void		*priv;
};

/* A handler returns 0 on success (result in h->result) or -1 with
 * h->error set. */
typedef int (*handler_fn)(struct hctx *h);

/* The built-in handler for name, or NULL. */
handler_fn	handler_find(const char *name);

/* A task run as a program: [task NAME] in the config file. */
struct task_conf {
	char		name[256];
	char		exec[1024];	/* absolute path and arguments */
	char		user[64];	/* run as, when root */
	char		cwd[512];
	char		env[512];	/* variables passed through */
	int64_t		timeout_ms;	/* 0: none */
	int64_t		kill_grace_ms;	/* SIGTERM, then SIGKILL */
	size_t		max_output;
	long long	rlimit_cpu_s, rlimit_as_mb, rlimit_nofile;
	/* served handlers (serve.c) */
	int		serve;		/* one long-lived child, many tasks */
	long long	max_tasks_per_child;	/* 0: no limit */
	long long	max_rss_mb;		/* 0: no limit */
	int64_t		serve_start_timeout_ms;	/* until READY */
};

/* Reads the [task NAME] sections of file; the count, or -1 with err. */
int		exec_load(const char *file, char *err, size_t errsz);
const struct task_conf *exec_find(const char *name);
/* Runs the program for one task; 0 success (result set) or -1 (error). */
int		exec_run(const struct task_conf *, struct hctx *);
/* Loads a plugin (dlopen) and its handlers; 0 or -1 with err. */
int		plugin_load(const char *path, char *err, size_t errsz);
/* Runs a plugin's handler for name: *found says whether there is one. */
int		plugin_run(const char *name, struct hctx *, int *found);
/* Parses "progress PCT [MESSAGE]"; 0 or -1. */
int		exec_progress_line(const char *, unsigned *pct, const char **msg);

/* Starting a handler program (spawn.c), shared by exec and serve. */
#define SPAWN_ARGV_MAX	64
#define SPAWN_ENV_MAX	64
#define SPAWN_GROUPS_MAX 64
#define SPAWN_FDS_MAX	8
struct spawn_plan {
	char		*argv[SPAWN_ARGV_MAX];
	char		*envp[SPAWN_ENV_MAX + 1];
	char		 cmd[1024];
	char		 envbuf[SPAWN_ENV_MAX][256];
	uid_t		 uid;
	gid_t		 gid;
	gid_t		 groups[SPAWN_GROUPS_MAX];
	int		 ngroups;
	int		 switch_user;
};
/* Everything a start needs that may fail or allocate, done before fork:
 * argv, the environment (PATH, LANG, then vars, "K=V" NULL-terminated,
 * then tc's env allow-list), the user. 0 or -1 with err. */
int		spawn_prepare(const struct task_conf *, const char *const *vars,
		    struct spawn_plan *, char *err, size_t errsz);
/* Starts the program with fds[i] as its descriptor i (nothing else open),
 * limits, cwd, user, its own process group, PR_SET_PDEATHSIG. The caller
 * closes its copies of fds. The pid, or -1 with err (exec failures too). */
pid_t		spawn_start(const struct task_conf *, const struct spawn_plan *,
		    const int *fds, int nfds, char *err, size_t errsz);
/* "exit status N" or "killed by signal S" for a wait status. */
void		spawn_status(int status, char *buf, size_t size);

/* Served handlers (serve.c, protocol in docs/serve-protocol.md): runs one
 * task through the long-lived child of tc, started on first use; 0
 * success (result set) or -1 (error set). Handler thread only. */
int		serve_run(const struct task_conf *, struct hctx *);
/* Closes every child's fd 3 and reaps them (SIGKILL after their
 * kill_grace_ms). At the worker's exit, on the handler thread. */
void		serve_shutdown(void);

#endif
