/*
 * -l -i lists the probe with that id: 2 is dtrace:::END.
 *
 * @args: -l -i 2 {script}
 */
