import DocumentStore
import Foundation
import Templates

/// The dashboard's HTML: the empty frame of both views, which the script fills from the API.
enum DashboardPage {
    static let states = ["PENDING", "PROCESSING", "SUCCESS", "ERROR", "RETRY"]

    static func render(language: DashboardLanguage, mailCollection: String) -> String {
        let table = DashboardText.table(for: language)
        func text(_ key: String) -> String { escapeHTML(table[key] ?? key) }

        let counts = states.map { state in
            """
                  <li><a class="count state-\(state.lowercased())" href="#/?state=\(state)" data-count-state="\(state)">\
            <span class="count-state">\(state)</span> <span class="count-value" id="count-\(state)">–</span></a></li>
            """
        }.joined(separator: "\n")
        let stateOptions = states.map { "            <option value=\"\($0)\">\($0)</option>" }.joined(separator: "\n")

        return """
            <!doctype html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(text("pageTitle"))</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="\(Dashboard.stylePath)">
            <script type="application/json" id="dashboard-config">\(configJSON(table: table, mailCollection: mailCollection))</script>
            <script src="\(Dashboard.scriptPath)" defer></script>
            </head>
            <body>
            <a class="skip-link" href="#main">\(text("skipLink"))</a>
            <header class="site-header">
              <h1><a href="#/">trigger-email</a></h1>
              <p id="connection" class="connection" role="status">\(text("connecting"))</p>
              <button type="button" id="forget-token" class="secondary" hidden>\(text("forgetToken"))</button>
            </header>
            <noscript><p class="notice">\(text("noScript"))</p></noscript>

            <section id="token-panel" class="panel" aria-labelledby="token-heading" hidden>
              <h2 id="token-heading">\(text("tokenHeading"))</h2>
              <p id="token-message">\(text("tokenNeeded"))</p>
              <form id="token-form">
                <label for="token-input">\(text("tokenLabel"))</label>
                <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required>
                <button type="submit">\(text("tokenSubmit"))</button>
              </form>
            </section>

            <section class="panel counts-panel" aria-labelledby="counts-heading">
              <h2 id="counts-heading">\(text("countsHeading"))</h2>
              <ul id="counts" class="counts" aria-live="polite">
            \(counts)
              </ul>
              <p id="counts-status" class="status" role="status"></p>
              <button type="button" id="retry-errors">\(text("retryErrors"))</button>
            </section>

            <p id="notice" class="notice" role="status" aria-live="polite"></p>

            <main id="main" tabindex="-1">
              <section id="list-view" aria-labelledby="list-heading">
                <h2 id="list-heading">\(text("listHeading")) <code>\(escapeHTML(mailCollection))</code></h2>
                <form id="filters" class="filters" role="search" aria-label="\(text("filtersLabel"))">
                  <div class="field">
                    <label for="state-filter">\(text("stateFilter"))</label>
                    <select id="state-filter" name="state">
                      <option value="">\(text("allStates"))</option>
            \(stateOptions)
                    </select>
                  </div>
                  <div class="field grow">
                    <label for="search">\(text("searchLabel"))</label>
                    <input id="search" name="q" type="search" autocomplete="off" spellcheck="false">
                  </div>
                  <div class="field buttons">
                    <button type="submit">\(text("searchButton"))</button>
                    <button type="button" id="clear-filters" class="secondary">\(text("clearFilters"))</button>
                  </div>
                </form>
                <p id="list-status" class="status" role="status">\(text("loading"))</p>
                <div class="table-wrap">
                  <table id="documents">
                    <caption class="visually-hidden">\(text("listCaption"))</caption>
                    <thead>
                      <tr>
                        <th scope="col">\(text("columnCreated"))</th>
                        <th scope="col">\(text("columnState"))</th>
                        <th scope="col">\(text("columnRecipients"))</th>
                        <th scope="col">\(text("columnSubject"))</th>
                        <th scope="col" class="number">\(text("columnAttempts"))</th>
                        <th scope="col">\(text("columnActions"))</th>
                      </tr>
                    </thead>
                    <tbody id="rows"></tbody>
                  </table>
                </div>
                <button type="button" id="load-more" hidden>\(text("loadMore"))</button>
              </section>

              <section id="document-view" aria-labelledby="document-heading" hidden>
                <p><a id="back-link" href="#/">\(text("backToList"))</a></p>
                <h2 id="document-heading" tabindex="-1"></h2>
                <p id="document-status" class="status" role="status"></p>
                <div id="document-body">
                  <div class="actions">
                    <button type="button" id="retry-document">\(text("retry"))</button>
                    <p id="retry-hint" class="hint" hidden>\(text("retryNotNow"))</p>
                  </div>
                  <div class="columns">
                    <section aria-labelledby="message-heading">
                      <h3 id="message-heading">\(text("messageHeading"))</h3>
                      <dl id="message-fields" class="fields"></dl>
                    </section>
                    <section aria-labelledby="delivery-heading">
                      <h3 id="delivery-heading">\(text("deliveryHeading"))</h3>
                      <dl id="delivery-fields" class="fields"></dl>
                    </section>
                  </div>
                  <section aria-labelledby="preview-heading">
                    <h3 id="preview-heading">\(text("previewHeading"))</h3>
                    <p class="hint">\(text("previewNote"))</p>
                    <p id="preview-status" class="status"></p>
                    <iframe id="preview" sandbox referrerpolicy="no-referrer" title="\(text("previewTitle"))" hidden></iframe>
                  </section>
                  <details>
                    <summary>\(text("documentJSON"))</summary>
                    <pre id="document-json"></pre>
                  </details>
                </div>
              </section>
            </main>
            </body>
            </html>

            """
    }

    /// Serializes the settings that the script reads: the mail collection, the states and the
    /// text table. `<` is written as `\u003c`, so no string can end the script element.
    private static func configJSON(table: [String: String], mailCollection: String) -> String {
        let config: JSONValue = [
            "collection": .string(mailCollection),
            "states": .array(states.map(JSONValue.string)),
            "text": .object(table.mapValues(JSONValue.string)),
        ]
        return config.serialized().replacingOccurrences(of: "<", with: "\\u003c")
    }
}
