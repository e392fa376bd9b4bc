import Foundation

let exitCode = await TriggerEmailCommand.run(Array(CommandLine.arguments.dropFirst()))
exit(exitCode)
