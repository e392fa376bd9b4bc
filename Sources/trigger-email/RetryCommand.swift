import TriggerEmail

/// `retry`: sends SUCCESS or ERROR documents again.
enum RetryCommand {
    static let command = TriggerEmailCommand.Command(
        name: "retry",
        summary: "Send documents again by setting delivery.state to RETRY (only from SUCCESS or ERROR).",
        usage: "trigger-email retry ID...",
        valueOptions: [], flagOptions: []
    ) { arguments in
        guard !arguments.positional.isEmpty else {
            throw UsageError("retry needs at least one document ID.")
        }
        let configuration = try Settings.configuration(arguments)
        let store = try await Settings.openStore(configuration, create: false)
        let queue = MailQueue(store: store, mailCollection: configuration.mailCollection)

        var failures = 0
        for id in arguments.positional {
            let outcome: RetryOutcome
            do {
                outcome = try await queue.retry(id)
            } catch {
                TriggerEmailCommand.printError("\(id): \(error)")
                failures += 1
                continue
            }
            switch outcome {
            case .retrying:
                print("\(id)\tRETRY")
            case .processing:
                TriggerEmailCommand.printError("\(id) is being sent right now (PROCESSING); retry it once it ends in SUCCESS or ERROR.")
                failures += 1
            case .alreadyQueued(let state):
                print("\(id)\t\(state) (already waiting to be sent)")
            case .notFound:
                TriggerEmailCommand.printError("No document with ID \(id) in \(configuration.mailCollection).")
                failures += 1
            }
        }
        await store.close()
        return failures == 0 ? 0 : 1
    }
}
