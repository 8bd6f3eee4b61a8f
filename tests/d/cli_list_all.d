/*
 * -l alone lists every probe under dtrace(1)'s header ("%5s %10s %17s %33s %s"): the dtrace
 * provider's BEGIN (1), END (2) and ERROR (3), then the profile provider's probes.
 *
 * @args: -l {script}
 */
