/*
 * -l -P lists the probes of one provider.
 *
 * @args: -l -P dtrace {script}
 */
