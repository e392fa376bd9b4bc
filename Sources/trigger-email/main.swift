import Foundation

// A closed socket must fail a write with EPIPE, not end the service.
signal(SIGPIPE, SIG_IGN)

let exitCode = await TriggerEmailCommand.run(Array(CommandLine.arguments.dropFirst()))
exit(exitCode)
