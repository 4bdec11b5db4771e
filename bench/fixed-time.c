/* Preloaded into the callgrind runs of bench/instructions: time() returns a constant.
 * Lua 5.4 seeds its string hash with time(NULL), so without this each run lays its tables out
 * differently and the instruction count moves by a few hundred per request. */
#include <time.h>

time_t time(time_t *t)
{
    if (t)
        *t = 1700000000;
    return 1700000000;
}
