/* What the tq commands share: the configuration, option helpers, dying
 * with an exit code, and each command's entry point. Private to cli/. */
#ifndef TQ_CLI_H
#define TQ_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "client.h"
#include "config.h"
#include "store.h"
#include "uuid.h"

/* The effective configuration: file, then environment, then flags. */
extern struct config cfg;

/* tq.c. Each of these dies (exits) where it fails; die prints "tq: " and
 * the message on stderr, then exits code. */
void __attribute__((noreturn))	die(int, const char *, ...);
/* Connects the client's store (111 when that may pass, 100 otherwise). */
void		need_store(struct client *);
/* A client on cfg, nothing connected yet (100 on a bad setting). */
void		open_client(struct client *);
/* A flag's value as a number in min..max, or usage (2). */
long long	num_arg(const char *opt, const char *v, long long min,
		    long long max);
/* A task id, or usage (2). */
void		parse_id(const char *, struct uuid *);
/* A flag's value in seconds (fractions allowed) as ms, or usage (2). */
long long	secs_to_ms(const char *opt, const char *v);
/* 100 when a payload is over payload_max. */
void		check_payload(size_t);
/* The options of a command that takes only --json and --help: sets *json,
 * exits on --help or a bad option, returns the index of the operands. */
int		json_flag(int, char **, void (*usage)(FILE *), int *json);

/* show.c: a task row as tq show --json prints it. */
json_t		*task_json(const struct task_row *);

/* limit.c: a limit and its live figures as tq limit list --json and
 * tq web's overview show it. */
json_t		*limit_json(const struct limit_info *);

/* workers.c: the supervisor's "workers" answer on its control socket
 * at path, or NULL with why. */
json_t		*control_query(const char *path, char *why, size_t whysz);

/* One per command, each in its family's file. */
int	cmd_submit(int, char **);
int	cmd_show(int, char **);
int	cmd_wait(int, char **);
int	cmd_result(int, char **);
int	cmd_stats(int, char **);
int	cmd_top(int, char **);
int	cmd_cancel(int, char **);
int	cmd_retry(int, char **);
int	cmd_failed(int, char **);
int	cmd_purge(int, char **);
int	cmd_cron(int, char **);
int	cmd_doctor(int, char **);
int	cmd_migrate(int, char **);
int	cmd_reconcile(int, char **);
int	cmd_config(int, char **);
int	cmd_workers(int, char **);
int	cmd_web(int, char **);
int	cmd_limit(int, char **);
int	cmd_pause(int, char **);
int	cmd_resume(int, char **);

#endif
