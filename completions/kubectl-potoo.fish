# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_potoo_global_optspecs
    string join \n kubeconfig= context= n/namespace= A/all-namespaces as= as-group= request-timeout= o/output= no-color from= detail= v/verbose h/help V/version
end

function __fish_kubectl_potoo_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_potoo_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_potoo_using_subcommand
    set -l cmd (__fish_kubectl_potoo_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "query" -d 'Which constraints affect this namespace or workload, and why each one matches'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "status" -d 'Which policy engines and kinds exist, counts by type/severity/namespace, what is unreadable'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "explain" -d 'Which constraint caused this error: paste an error (or a whole apply/describe output)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "check" -d 'Would these manifests be admitted; what blocks or warns, by which rule, at which field'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "reach" -d 'Is this traffic allowed; which policy and rule decides each side'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "remediate" -d 'What to do about one constraint: steps, commands, patches, whom to ask'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "test" -d 'Run policy test suites: Kyverno `kyverno-test.yaml` and Gatekeeper gator `Suite` files under PATH'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "snapshot" -d 'Write the cluster state potoo reads (objects and gaps) as one document, for --from'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s l -l selector -d 'Only constraints that apply to workloads whose pod labels match this selector' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l workload -d 'Only constraints that apply to this workload: KIND/NAME or NAMESPACE/KIND/NAME' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l type -d 'Only these types: NetworkIngress, NetworkEgress, Admission, ResourceLimit, MeshPolicy, MissingResource, Unknown, or `network`, `ingress`, `egress`, `quota`, `mesh` (comma-separated)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l severity -d 'Only these severities: critical, warning, info (comma-separated)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand query" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s f -l file -d 'Read the error text from a file (a saved `kubectl apply` or `kubectl describe` output)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l workload -d 'The workload that saw the error (the client of a network error); remediations are tailored to it: KIND/NAME or NAMESPACE/KIND/NAME' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand explain" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s f -l filename -d 'Manifests to check: files, directories (recursive) or `-` for stdin (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l fail-on -d 'Exit 1 when any object\'s verdict is at or above this (blocked > unknown > warning): `blocked` (default), `unknown` (also what potoo could not evaluate), `warning` (also warnings)' -r -f -a "blocked\t'Something would be blocked (the default)'
warning\t'Something would be blocked, could not be evaluated, or would be admitted with warnings'
unknown\t'Something would be blocked or could not be evaluated'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l server-dry-run -d 'Also send each object to the live apiserver as a dry run (dryRun=All; needs `create` permission) and report its answer beside potoo\'s; never with --from'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand check" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l all -d 'Connectivity of every workload in scope (-n NS or -A)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand reach" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l workload -d 'Tailor commands and patches to this workload: KIND/NAME or NAMESPACE/KIND/NAME' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand remediate" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand test" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand snapshot" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else `default`; with --from: `default`)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l as -d 'User to impersonate' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l request-timeout -d 'How long to wait for each server request: `30s`, `1m`, or seconds; 0 waits forever' -r
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
connlist\t'np-guard netpol-analyzer\'s `src => dst : conns` lines (reach only)'
junit\t'JUnit XML for CI (check, test)'
sarif\t'SARIF 2.1.0 for code scanning (check)'
markdown\t'A pull-request comment (check)'"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l from -d 'Read cluster state from files instead of the cluster: a file, a directory, or `-` (repeatable)' -r -F
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l detail -d 'How much to show: `full`, `detailed` (no rule bodies or other namespaces\' selectors), `summary` (also no names, ports or CIDRs from other namespaces)' -r -f -a "full\t''
detailed\t''
summary\t''"
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s A -l all-namespaces -d 'Every namespace'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -l no-color -d 'Never colour the output (also: the NO_COLOR environment variable)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s v -l verbose -d 'More logging on stderr (-v: adapter diagnostics, -vv: requests)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "query" -d 'Which constraints affect this namespace or workload, and why each one matches'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "status" -d 'Which policy engines and kinds exist, counts by type/severity/namespace, what is unreadable'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "explain" -d 'Which constraint caused this error: paste an error (or a whole apply/describe output)'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "check" -d 'Would these manifests be admitted; what blocks or warns, by which rule, at which field'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "reach" -d 'Is this traffic allowed; which policy and rule decides each side'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "remediate" -d 'What to do about one constraint: steps, commands, patches, whom to ask'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "test" -d 'Run policy test suites: Kyverno `kyverno-test.yaml` and Gatekeeper gator `Suite` files under PATH'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "snapshot" -d 'Write the cluster state potoo reads (objects and gaps) as one document, for --from'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-potoo -n "__fish_kubectl_potoo_using_subcommand help; and not __fish_seen_subcommand_from query status explain check reach remediate test snapshot completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
