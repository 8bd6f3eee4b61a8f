/*
 * -l lists probes under dtrace(1)'s header ("%5s %10s %17s %33s %s"): the dtrace provider's
 * BEGIN (1), END (2) and ERROR (3), then the profile provider's probes. (-l alone lists the
 * kernel's too, which differ from machine to machine: KernelProbes.ListingShowsEveryProbe...)
 *
 * @args: -l -n dtrace::: -n profile:::
 */
