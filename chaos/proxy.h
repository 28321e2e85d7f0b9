/*
 * proxy.h: tq-proxy's private header: its bounds, the structs of a
 * connection, its two flows and the control clients, and what the files share.
 */
#ifndef TQ_PROXY_H
#define TQ_PROXY_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

/* Exit codes, as in lib/util.h. */
#define EXIT_USAGE	2
#define EXIT_PERM	100	/* bad arguments */
#define EXIT_TEMP	111	/* cannot bind or listen */

#define MAX_CONNS	4096
#define MAX_QUEUED	(4 * 1024 * 1024)	/* a direction, with overhead */
#define MAX_TOTAL	(512 * 1024 * 1024)	/* all directions */
#define READ_SIZE	65536
#define READ_BUDGET	(256 * 1024)	/* per side and wakeup: fairness */
#define ACCEPT_BUDGET	64
#define CONNECT_MS	10000		/* upstream connect timeout */
#define LINGER_MS	2000		/* clean close: wait for peers' FIN */
#define ACCEPT_PAUSE_MS	100		/* after EMFILE and friends */
#define MAX_CTL		32
#define CTL_LINE	1024
#define CTL_OUT		8192
#define MAX_MS		3600000LL
#define MAX_RATE	1000000000000LL
#define MAX_SLICE	(16LL * 1024 * 1024)
#define NEVER		INT64_MAX

enum kind { K_LISTEN, K_CONTROL, K_SIGNAL, K_SIDE, K_CTL };

/* The first member of everything registered with epoll. */
struct handle {
	enum kind	 kind;
};

struct chunk {
	TAILQ_ENTRY(chunk) entry;
	int64_t		 due;		/* when it may be written */
	size_t		 off;
	size_t		 len;
	char		 data[];
};
TAILQ_HEAD(chunkq, chunk);

/* One direction: what side[d] sent, on its way to side[!d]. */
struct flow {
	struct chunkq	 q;
	size_t		 mem;		/* bytes held, chunk headers included */
	int64_t		 last_due;	/* keeps jittered chunks in order */
	int64_t		 credit;	/* token bucket, in byte-milliseconds */
	int64_t		 refill;	/* when credit was last topped up */
	int64_t		 next_slice;	/* when the next slice may go */
};

struct conn;

struct side {
	struct handle	 h;
	struct conn	*c;
	int		 idx;		/* 0 client, 1 upstream */
	int		 fd;
	int		 inep;		/* registered with epoll */
	uint32_t	 events;
	int		 rd_eof;	/* the peer sent FIN */
	int		 wr_shut;	/* we sent FIN */
	int		 wr_blocked;	/* last write met EAGAIN */
};

enum cstate { C_CONNECTING, C_OPEN, C_CLOSING, C_DEAD };

struct conn {
	uint64_t	 id;
	enum cstate	 state;
	int		 blackholed;	/* lived during a black hole */
	const char	*reason;	/* why it is closing */
	int64_t		 started;
	int64_t		 deadline;	/* of the connect or the clean close */
	uint64_t	 passed;	/* bytes forwarded, both ways */
	uint64_t	 up;
	uint64_t	 down;
	struct side	 side[2];
	struct flow	 flow[2];
	int64_t		 wake;		/* the timer; NEVER when off */
	int		 timed;
	RB_ENTRY(conn)	 tentry;
	LIST_ENTRY(conn) entry;
};
LIST_HEAD(connlist, conn);

struct listener {
	struct handle	 h;
	int		 fd;
};

struct ctl {
	struct handle	 h;
	int		 fd;
	int		 eof;
	uint32_t	 events;
	size_t		 inlen;
	size_t		 outlen;
	char		 in[CTL_LINE];
	char		 out[CTL_OUT];
	LIST_ENTRY(ctl)	 entry;
};
LIST_HEAD(ctllist, ctl);

struct fault {
	long long	 latency;
	long long	 jitter;
	long long	 bandwidth;
	long long	 slice;
	long long	 slice_delay;
	long long	 reset_after;
	long long	 close_after;
	int		 blackhole;
	int		 refuse;
};

struct stats {
	uint64_t	 accepted;
	uint64_t	 bytes_up;
	uint64_t	 bytes_down;
	unsigned	 conns;
	unsigned	 ctls;
	size_t		 mem;		/* all flows' mem */
};

RB_HEAD(timers, conn);
RB_PROTOTYPE(timers, conn, tentry, timer_cmp)

/* proxy_util.c */
extern const char *name;
extern int epfd;
int64_t		 mono_ms(void);
void		 logx(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*errname(int);
void		 addr_str(const struct sockaddr_storage *, char *, size_t);
void		 rst_close(int);
int		 ep_ctl(int, int, uint32_t, void *);

/* proxy_relay.c */
extern struct stats stats;
extern struct sockaddr_storage up_addr;
extern socklen_t up_len;
extern struct connlist conns;
extern struct connlist graveyard;
extern struct timers timers;
void		 flow_drop(struct flow *);
void		 conn_kill(struct conn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 conn_close_clean(struct conn *, const char *, int64_t);
void		 conn_step(struct conn *, int64_t);
void		 side_event(struct side *, uint32_t);
void		 conn_new(int, const struct sockaddr_storage *);

/* proxy_rules.c */
extern struct fault fault;
void		 conns_sweep(void);
void		 ctl_command(char *, char *, size_t);

/* proxy_control.c */
extern struct listener ctlsn;
extern struct ctllist ctls;
void		 ctl_free(struct ctl *);
void		 ctl_accept(void);
void		 ctl_event(struct ctl *, uint32_t);
int		 listen_control(const char *);

#endif /* TQ_PROXY_H */
