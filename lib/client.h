/* client.h: the producer and operator side: submit, publish, reconcile. */
#ifndef TQ_CLIENT_H
#define TQ_CLIENT_H

#include <stddef.h>

#include "broker.h"
#include "config.h"
#include "store.h"
#include "url.h"
#include "util.h"

#define CLIENT_AMQP_MAX	8

struct client {
	struct config		 cfg;
	struct url		 amqp[CLIENT_AMQP_MAX], mysql;
	int			 namqp;
	int			 amqp_cur;	/* the broker tried first */
	struct broker_opts	 bopts;
	struct tls_opts		 dbtls;
	struct store		*store;
	struct broker		*broker;
	char			 err[TQ_ERRSZ];
	int			 err_temp;	/* the failure may heal */
	int64_t			 next_stranded;	/* client_reconcile's check */
	struct ratelimit	 reconcile_rl;	/* client_reconcile_failed */
	int			 schema_checked;
	int			 no_schema_check;	/* tq migrate */
};

/* Keeps an idle publishing connection alive (call a few times per
 * heartbeat interval); drops it when it died. */
void	client_keepalive(struct client *);
/* Parses the URLs of cfg (already loaded). 0 or -1 (err, exit 100). */
int	client_init(struct client *, const struct config *);
/* The store's last error into err and err_temp; a temporary one closes
 * the store (client_store connects again). Returns -1. */
int	client_store_failed(struct client *);
/* Connects what is not connected. 0 or -1 (err, err_temp). */
int	client_store(struct client *);
int	client_broker(struct client *);
void	client_close(struct client *);
/* A new broker connection, trying each of amqp_url's brokers in turn from
 * the last one that worked. NULL with err (*temporary as broker_open). */
struct broker *client_broker_open(struct client *, char *err, size_t errsz,
	    int *temporary);

/* Makes n tasks durable in one transaction, then publishes them and marks
 * the confirmed ones queued. Returns 0 once durable (the ids are in t);
 * *published says how many need nothing more (confirmed, delayed, or
 * answered by a live task with the same key): the rest wait as pending
 * for the reconciler. -1 when nothing was stored. */
int	client_submit(struct client *, struct task_new *t, size_t n,
	    size_t *published);

/* Bulk submission, pipelined: client_bulk_submit makes a batch durable in
 * one transaction (which also marks queued the rows of earlier batches
 * whose publishes were confirmed meanwhile) and hands its messages to a
 * publisher thread, so that the next batch's INSERT runs while the broker
 * confirms this one. The client's broker connection belongs to that thread
 * until client_bulk_end, which waits for it and marks the last confirmed
 * rows. A row not marked stays pending: the reconciler publishes it again
 * after the grace period (a duplicate, never a loss). */
struct client_bulk;
struct client_bulk *client_bulk_start(struct client *);
/* 0 once durable (ids in t), -1 when nothing of t was stored (err). */
int	client_bulk_submit(struct client_bulk *, struct task_new *t, size_t n);
/* *published: tasks that need nothing more. Frees b. 0, or -1 when the
 * last marking failed (those rows wait as pending). */
int	client_bulk_end(struct client_bulk *, size_t *published);

/* Publishes rows that need a message and marks the confirmed ones
 * queued. Returns confirmed count or -1. */
int	client_publish_rows(struct client *, struct pub_row *rows, size_t n);
/* Publishes the tasks a finish or release of this client's store let out
 * of a limit's wait (store_woken): how many, or -1 (the leader publishes
 * them on its next turn). */
int	client_publish_woken(struct client *);

struct reconcile_stats {
	int	expired;	/* leases expired, tasks released */
	int	published;	/* pending/scheduled rows published */
	int	due;		/* rows that needed a message */
	int	stranded;	/* queued rows published again */
	int	cron;		/* periodic tasks enqueued */
};

/* One reconciler pass: expire leases, publish due rows. 0 or -1. */
int	client_reconcile(struct client *, struct reconcile_stats *);
/* Logs client_reconcile's failure (c->err), at most once every 5 s with
 * the count of those held back: a server away fails every tick. */
void	client_reconcile_failed(struct client *);

#endif
