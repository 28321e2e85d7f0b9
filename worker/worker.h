/* worker.h: tq-worker's private structures. */
#ifndef TQ_WORKER_H
#define TQ_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* What a handler sees. */
struct hctx {
	const char	*name;
	const char	*queue;
	const void	*payload;
	size_t		 len;
	unsigned	 attempt;
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

#endif
