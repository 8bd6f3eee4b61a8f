/*
 * profile-N names take the units of tick-N (a bare number and hz are rates, ns..d periods), and
 * each names one probe. -e only compiles and matches: a profile-N probe samples every CPU through
 * perf events, which needs root (tests/targets/profile_sampler_test.cpp checks its firings), and
 * this suite runs unprivileged too.
 *
 * @args: -e -s {script}
 */

profile:::profile-500hz,
profile:::profile-10ms
{
	n++;
}
