/*
 * pool.c: the store workers (see pool.h). One mutex guards the queues and
 * the done list; workers sleep on one condition variable; the loop is
 * woken through an eventfd, written once per done job.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pool.h"

/* The jobs of one uid waiting for a worker, first in first out; or the
 * pool's own queue (own: the jobs of no caller, outside every uid's cap). */
struct uid_queue {
	uint32_t uid;
	bool own;
	size_t n;
	struct ntlmd_job *head, *tail;
};

struct ntlmd_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;      /* a job was queued, or the pool stops */
	struct uid_queue *queues; /* uids with jobs waiting, in the order of their turns */
	size_t n_queues, cap_queues;
	size_t turn; /* the queue whose turn is next */
	size_t queued, per_uid;
	unsigned running;
	struct ntlmd_job *done_head, *done_tail;
	bool stop;
	int event_fd;
	pthread_t *threads;
	unsigned n_threads;
};

static void done_append_locked(struct ntlmd_pool *p, struct ntlmd_job *job)
{
	job->next = NULL;
	if (p->done_tail != NULL)
		p->done_tail->next = job;
	else
		p->done_head = job;
	p->done_tail = job;
}

/* Tells the loop that a job is done: one eventfd increment. */
static void wake_loop(struct ntlmd_pool *p)
{
	uint64_t one = 1;

	/* cannot fail but by overflow of the counter, which the loop's reads
	 * reset long before 2^64 jobs */
	while (write(p->event_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Queue i, empty now, leaves the ring; the queue after it keeps its turn. */
static void ring_remove_locked(struct ntlmd_pool *p, size_t i)
{
	memmove(&p->queues[i], &p->queues[i + 1], (p->n_queues - i - 1) * sizeof(*p->queues));
	p->n_queues--;
	if (i < p->turn)
		p->turn--;
}

/* The next job in round-robin order of the uids; NULL when none waits. */
static struct ntlmd_job *take_locked(struct ntlmd_pool *p)
{
	struct uid_queue *q;
	struct ntlmd_job *job;
	size_t i;

	if (p->n_queues == 0)
		return NULL;
	i = p->turn % p->n_queues;
	q = &p->queues[i];
	job = q->head;
	if (job == NULL) /* cannot be: a queue in the ring is never empty */
		return NULL;
	q->head = job->next;
	job->next = NULL;
	q->n--;
	p->queued--;
	p->turn = i + 1;
	if (q->head == NULL) {
		q->tail = NULL;
		ring_remove_locked(p, i);
	}
	return job;
}

static void *worker_main(void *arg)
{
	struct ntlmd_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct ntlmd_job *job;

		while (!p->stop && p->queued == 0)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		job = take_locked(p);
		if (job == NULL) /* cannot be: queued > 0 */
			continue;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		job->run(job);
		pthread_mutex_lock(&p->lock);
		p->running--;
		done_append_locked(p, job);
		wake_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static struct uid_queue *queue_of_locked(struct ntlmd_pool *p, uint32_t uid, bool own)
{
	for (size_t i = 0; i < p->n_queues; i++)
		if (p->queues[i].own == own && (own || p->queues[i].uid == uid))
			return &p->queues[i];
	if (p->n_queues == p->cap_queues) {
		size_t cap = p->cap_queues == 0 ? 16 : p->cap_queues * 2;
		struct uid_queue *grown = realloc(p->queues, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		p->queues = grown;
		p->cap_queues = cap;
	}
	p->queues[p->n_queues] = (struct uid_queue){.uid = uid, .own = own};
	return &p->queues[p->n_queues++];
}

/* Queues job in its uid's queue (own: the pool's own queue) when that
 * holds fewer than cap jobs (0: no limit). */
static bool submit(struct ntlmd_pool *p, struct ntlmd_job *job, bool own, size_t cap)
{
	struct uid_queue *q;
	bool ok = false;

	pthread_mutex_lock(&p->lock);
	q = p->stop ? NULL : queue_of_locked(p, job->uid, own);
	if (q != NULL && (cap == 0 || q->n < cap)) {
		job->next = NULL;
		job->cancelled = false;
		if (q->tail != NULL)
			q->tail->next = job;
		else
			q->head = job;
		q->tail = job;
		q->n++;
		p->queued++;
		pthread_cond_signal(&p->work);
		ok = true;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

bool ntlmd_pool_submit(struct ntlmd_pool *p, struct ntlmd_job *job)
{
	return submit(p, job, false, p->per_uid);
}

bool ntlmd_pool_submit_own(struct ntlmd_pool *p, struct ntlmd_job *job, size_t limit)
{
	return submit(p, job, true, limit > 0 ? limit : 1);
}

/* Unlinks job from queue i, if it waits there. */
static bool unlink_locked(struct ntlmd_pool *p, size_t i, struct ntlmd_job *job)
{
	struct uid_queue *q = &p->queues[i];
	struct ntlmd_job *prev = NULL;

	for (struct ntlmd_job *j = q->head; j != NULL; prev = j, j = j->next) {
		if (j != job)
			continue;
		if (prev != NULL)
			prev->next = j->next;
		else
			q->head = j->next;
		if (q->tail == j)
			q->tail = prev;
		j->next = NULL;
		q->n--;
		p->queued--;
		if (q->head == NULL)
			ring_remove_locked(p, i);
		return true;
	}
	return false;
}

bool ntlmd_pool_cancel(struct ntlmd_pool *p, struct ntlmd_job *job)
{
	bool found = false;

	if (p == NULL)
		return false;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_queues && !found; i++)
		found = unlink_locked(p, i, job);
	pthread_mutex_unlock(&p->lock);
	return found;
}

struct ntlmd_job *ntlmd_pool_done(struct ntlmd_pool *p)
{
	struct ntlmd_job *job;
	uint64_t count;

	pthread_mutex_lock(&p->lock);
	job = p->done_head;
	if (job != NULL) {
		p->done_head = job->next;
		if (p->done_head == NULL)
			p->done_tail = NULL;
		job->next = NULL;
	} else {
		/* drained: reset the descriptor under the lock, so that a job
		 * done after this read makes it readable again */
		while (read(p->event_fd, &count, sizeof(count)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return job;
}

size_t ntlmd_pool_queued(struct ntlmd_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->queued;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned ntlmd_pool_running(struct ntlmd_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->running;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned ntlmd_pool_workers(const struct ntlmd_pool *p)
{
	return p->n_threads;
}

int ntlmd_pool_fd(const struct ntlmd_pool *p)
{
	return p->event_fd;
}

struct ntlmd_pool *ntlmd_pool_new(unsigned workers, size_t per_uid)
{
	struct ntlmd_pool *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	int saved, rc = 0;

	if (p == NULL)
		return NULL;
	if (workers == 0)
		workers = 1;
	p->per_uid = per_uid;
	p->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->threads = calloc(workers, sizeof(*p->threads));
	if (p->event_fd < 0 || p->threads == NULL)
		goto fail;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	/* the workers inherit a mask that blocks every signal: SIGHUP and
	 * SIGTERM reach the loop's signalfd, never a worker */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; p->n_threads < workers && rc == 0; p->n_threads++)
		if ((rc = pthread_create(&p->threads[p->n_threads], NULL, worker_main, p)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ntlmd_pool_stop(p);
		ntlmd_pool_free(p);
		errno = rc;
		return NULL;
	}
	return p;
fail:
	saved = errno;
	if (p->event_fd >= 0)
		close(p->event_fd);
	free(p->threads);
	free(p);
	errno = saved;
	return NULL;
}

void ntlmd_pool_stop(struct ntlmd_pool *p)
{
	struct ntlmd_job *job;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
	/* no worker runs now: what is still queued comes back unrun */
	while ((job = take_locked(p)) != NULL) {
		job->cancelled = true;
		done_append_locked(p, job);
	}
}

void ntlmd_pool_free(struct ntlmd_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	close(p->event_fd);
	free(p->queues);
	free(p->threads);
	free(p);
}
