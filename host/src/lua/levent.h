/*
** levent.h -- what the files of the des.event userdata share: its layout
** and user values, and the few functions that make, trigger and check
** events. levent.c has the event object (des.event, des.timeout),
** levany.c the composites (des.any, des.all), levfail.c the check of
** failures nobody handles.
*/
#ifndef DES_LEVENT_H
#define DES_LEVENT_H

#include "ldes.h"

/* User values of an event: values or error, callbacks, name, and members
** (a composite's own copy of them) or, for a timeout, its simulation
** object (ev->rt stays valid as long as the timeout does). */
enum { EV_VALUES = UV_VALUES, EV_CALLBACKS, EV_NAME, EV_MEMBERS, EV_NUV };
#define EV_SIM EV_MEMBERS

enum { EVK_PLAIN, EVK_TIMEOUT, EVK_ANY, EVK_ALL };

typedef struct des_event {
  rt_waitable w;        /* first: tasks and events share this layout */
  rt_runtime *rt;       /* timeouts: the simulation that fires them */
  uint8_t kind;         /* EVK_* */
  wheel_handle timer;   /* timeouts: the pending wheel event */
  des_time when;        /* when it triggered */
  uint32_t n;           /* composites: number of members */
  uint32_t remaining;   /* all: members not yet succeeded */
  uint32_t depth;       /* composites: 1 + their deepest member's depth */
  uint8_t handled;      /* failed: waited on, had a callback, or defused */
  rt_runtime *check;    /* failed unhandled: the simulation whose
                            RT_UNHANDLED event checks it again */
  uint64_t quiet;       /* ... its count of other events at the last look */
  uint8_t looks;        /* ... looks since that count last changed */
  rt_waiter members[1]; /* composites: one node per member (n of them) */
} des_event;

/* The kinds' names, by EVK_* (levent.c). */
extern const char *const levent_kinds[];

/* A new pending event of kind with room for n member nodes; pushes it. */
des_event *levent_new(lua_State *L, int kind, uint32_t n);

/* Push "event 'name'" (or the kind) for messages. */
void levent_push_label(lua_State *L, int idx);

/* Push the anchor table of simulation rt. */
void levent_push_anchors(lua_State *L, rt_runtime *rt);

/* Trigger the event at idx, whose values are already in EV_VALUES, with
** state (WAITABLE_OK or WAITABLE_FAILED). */
void levent_trigger(lua_State *L, int idx, int state);

/* Push the values at [first, top] packed as {n=..., ...} (nil if none). */
void levent_pack_values(lua_State *L, int first);

/* Unlink a composite's member nodes from its members (levany.c); does
** nothing for other events. */
void levent_composite_detach(des_event *ev);

/* des.any{...} and des.all{...} (levany.c). */
int levent_any(lua_State *L);
int levent_all(lua_State *L);

/* The event at idx failed and nothing handles it yet: check it again
** later in this instant (levfail.c). */
void levent_arm_unhandled(lua_State *L, int idx, des_event *ev);

/* Mark the event at idx handled (a wait, a callback, a composite). */
static inline void levent_mark_handled(des_event *ev) {
  ev->handled = 1;
}

#endif
