/*
 * -l -n with a glob: dtrace:::*R* matches ERROR only.
 *
 * @args: -l -n 'dtrace:::*R*'
 */
