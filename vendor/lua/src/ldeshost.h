/*
** ldeshost.h
** deshost's local addition to Lua 5.4.7 (vendor/lua/patches/0001):
** checkpoints that make the count hook fire inside C loops.
** See Copyright Notice in lua.h
*/

#ifndef ldeshost_h
#define ldeshost_h

#include "lua.h"
#include "lstate.h"

/*
** A loop of the standard libraries whose number of iterations a script
** controls (string.rep, the pattern matcher, table.move, sort, ...) runs
** no VM instruction, so a count hook (an instruction budget, an interrupt
** set with lua_sethook from a signal handler or another thread) would
** never fire inside it. Such loops call 'luai_checkpoint' once per
** iteration: with a count hook set, each call counts as one instruction
** (a decrement and a branch) and the hook is called when its count runs
** out, exactly as the VM does. 'luai_checkpointn' charges 'w' units at
** once, for a step whose cost grows with a length (memcmp, memcpy); use
** 'luai_bytecost' to turn a byte count into units. The hook is called as
** from the C function running the loop and must not yield (it is called
** non-yieldable, so lua_yield raises an error); it may raise an error.
*/
LUAI_FUNC void luaD_checkpointhook (lua_State *L);
LUAI_FUNC void luaD_checkpoint (lua_State *L, size_t w);

/*
** (patch 0006) Work that runs where no hook may be called (a walk of the
** CallInfo list in the middle of error recovery, the collector, a debug
** query) charges 'w' units later instead: 'luaD_chargelater' adds them to
** 'g->hookdebt', which the count hook takes with 'lua_takehookdebt'
** (lua.h) at its next count. It never calls the hook, so it is safe
** anywhere.
*/
LUAI_FUNC void luaD_chargelater (lua_State *L, size_t w);

/* the units of a walk over 'n' CallInfo entries: one per 4 (a short
   walk, as an error message's position, costs nothing) */
#define luai_cicost(n)	((size_t)(n) >> 2)

/*
** (patch 0007) An asynchronous hook request (lua_asynchook, from another
** thread or a signal handler) is a flag in the global state, read with a
** relaxed atomic load: the VM reads it at every jump, loop and function
** start (lvm.c), and a checkpoint reads it when no count hook is set; the
** thread that sees it installs the hook itself ('luaD_takehookreq'), so no
** other thread ever walks a CallInfo list that is changing.
*/
#if defined(__GNUC__)
#define luai_hookreq(L)	__atomic_load_n(&G(L)->hookreq, __ATOMIC_RELAXED)
#else
#define luai_hookreq(L)	(*(volatile int *)&G(L)->hookreq)
#endif
LUAI_FUNC void luaD_takehookreq (lua_State *L);

#define luai_checkpoint(L) \
  { if (l_unlikely(((L)->hookmask & LUA_MASKCOUNT) ? \
                   --(L)->hookcount <= 0 : luai_hookreq(L))) \
      luaD_checkpointhook(L); }

#define luai_checkpointn(L,w) \
  { if (l_unlikely(((L)->hookmask & LUA_MASKCOUNT) || luai_hookreq(L))) \
      luaD_checkpoint(L, (size_t)(w)); }

/* the units of a byte operation over 'n' bytes: one per 256 bytes */
#define luai_bytecost(n)	(1 + ((size_t)(n) >> 8))

#endif
