/* broker.h: RabbitMQ through rabbitmq-c: persistent, mandatory publishes on
 * a confirm channel; bounded-prefetch consumers with manual acks. */
#ifndef TQ_BROKER_H
#define TQ_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"
#include "uuid.h"

struct broker;

struct broker_opts {
	int	heartbeat_s;	/* AMQP heartbeat; 0 turns it off */
	int	timeout_ms;	/* connect, RPC and confirm waits */
	int	quorum;		/* declare quorum queues (else classic) */
	int	window;		/* unconfirmed publishes in flight */
	/* amqps://: files and verification (tls.on is taken from the URL) */
	struct tls_opts tls;
};
#define BROKER_OPTS_DEFAULT { 10, 10000, 0, 1000, { 0, NULL, NULL, NULL, 1 } }

/* The AMQP queue name for a tq queue: "tq.<queue>". */
#define BROKER_QUEUE_PREFIX	"tq."
#define BROKER_DLX		"tq.dlx"
#define BROKER_DEAD_QUEUE	"tq.dead"

/* Connects, logs in and opens channel 1. NULL with err; *temporary set
 * when the broker could not be reached (else refused: bad credentials). */
struct broker	*broker_open(const struct url *, const struct broker_opts *,
		    char *err, size_t errsz, int *temporary);
void		 broker_close(struct broker *);
const char	*broker_errstr(const struct broker *);
/* The socket, for poll/epoll. */
int		 broker_fd(const struct broker *);

/* Declares the queue (durable, quorum or classic, dead-lettering to
 * tq.dlx -> tq.dead) once per connection. 0 or -1. */
int	broker_declare(struct broker *, const char *queue);

struct broker_msg {
	const char	*queue;
	const void	*body;
	size_t		 len;
	struct uuid	 id;
	unsigned	 priority;	/* 0..9 (classic queues) */
	int		 confirmed;	/* out: acked by the broker, routed */
};

/* Publishes n messages, persistent and mandatory, pipelined on the
 * confirm channel, and waits for every confirm. Returns how many were
 * confirmed (the rest: nacked or returned), or -1 when the connection
 * failed (whatever was confirmed before is marked). */
int	broker_publish(struct broker *, struct broker_msg *, size_t n);

/* Starts consuming queue with this prefetch. */
int	broker_consume(struct broker *, const char *queue, int prefetch);

struct delivery {
	uint64_t	 tag;
	void		*body;
	size_t		 len;
	int		 redelivered;
	char		 message_id[64];
};

/* Waits up to timeout_ms for a delivery: 1 got one (free with
 * delivery_release), 0 none yet, -1 the connection or channel failed. */
int	broker_next(struct broker *, struct delivery *, int timeout_ms);
void	delivery_release(struct delivery *);
int	broker_ack(struct broker *, uint64_t tag, int multiple);
/* Rejects without requeue: the message goes to the dead-letter queue. */
int	broker_reject(struct broker *, uint64_t tag);
/* Services an idle connection: rabbitmq-c sends and checks heartbeats
 * only inside its calls, so a publisher that sits idle must call this now
 * and then or the broker closes it. 0, or -1 when the connection died. */
int	broker_keepalive(struct broker *);
/* Whether frames wait in rabbitmq-c's buffers (poll would not see them). */
int	broker_buffered(struct broker *);
/* Messages ready in the queue, or -1. */
long	broker_depth(struct broker *, const char *queue);

#endif
