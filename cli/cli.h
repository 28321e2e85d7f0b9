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

/* tq.c: dies with "tq: " and the message on stderr, exiting code. */
void __attribute__((noreturn))	die(int, const char *, ...);
void		need_store(struct client *);
void		open_client(struct client *);
long long	num_arg(const char *, const char *, long long, long long);
void		parse_id(const char *, struct uuid *);
long long	secs_to_ms(const char *, const char *);
void		check_payload(size_t);
int		json_flag(int, char **, void (*)(FILE *), int *);

/* show.c */
json_t		*task_json(const struct task_row *);

/* workers.c */
json_t		*control_query(const char *, char *, size_t);

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

#endif
