/// The languages of the dashboard.
enum DashboardLanguage: String, CaseIterable, Sendable {
    case english = "en"
    case russian = "ru"

    /// Picks the language that an `Accept-Language` header (RFC 9110) prefers.
    ///
    /// A language range matches by its primary subtag, so `ru-RU` selects Russian. Each language
    /// gets the highest q of the ranges that name it, or the q of `*` when none does. The highest
    /// q above 0 wins, and on equal q the language whose range comes first. A missing header, or
    /// one that accepts neither language, gives English. Malformed ranges are ignored.
    static func preferred(byAcceptLanguage header: String?) -> DashboardLanguage {
        guard let header else { return .english }

        var named: [DashboardLanguage: (quality: Double, position: Int)] = [:]
        var wildcard: (quality: Double, position: Int)?
        for (position, element) in header.split(separator: ",").enumerated() {
            guard let (range, quality) = parseRange(element) else { continue }
            if range == "*" {
                wildcard = (quality, position)
                continue
            }
            let primary = range.split(separator: "-", maxSplits: 1).first.map(String.init) ?? range
            guard let language = DashboardLanguage(rawValue: primary) else { continue }
            if let earlier = named[language], earlier.quality >= quality { continue }
            named[language] = (quality, named[language]?.position ?? position)
        }

        var best: (language: DashboardLanguage, quality: Double, position: Int)?
        for language in allCases {
            guard let preference = named[language] ?? wildcard, preference.quality > 0 else { continue }
            if let current = best,
                current.quality > preference.quality
                    || (current.quality == preference.quality && current.position <= preference.position)
            {
                continue
            }
            best = (language, preference.quality, preference.position)
        }
        return best?.language ?? .english
    }

    /// Splits `ru-RU;q=0.8` into the lower-case range and its q (1 when absent), or returns
    /// `nil` when the range or q is malformed.
    private static func parseRange(_ element: Substring) -> (String, Double)? {
        let parts = element.split(separator: ";", omittingEmptySubsequences: false)
        let range = parts[0].trimmingWhitespace().lowercased()
        guard !range.isEmpty, range.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "*") }) else {
            return nil
        }

        var quality = 1.0
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace().lowercased() }
            guard pair.count == 2, pair[0] == "q" else { continue }
            // A qvalue is 0 to 1 with at most three decimals.
            guard pair[1].count <= 5, let value = Double(pair[1]), (0...1).contains(value) else { return nil }
            quality = value
        }
        return (range, quality)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

/// The dashboard's words in English and Russian, by key. The page's HTML uses some of them, and
/// the script receives the whole table of the page's language. Field names and delivery states
/// (`to`, `delivery`, `PENDING`) are not translated, because they are what the API returns.
/// `{name}` marks a value that the script fills in.
enum DashboardText {
    private static let entries: [(key: String, english: String, russian: String)] = [
        ("pageTitle", "trigger-email dashboard", "Панель trigger-email"),
        ("skipLink", "Skip to main content", "Перейти к основному содержимому"),
        ("noScript", "The dashboard needs JavaScript.", "Для работы панели нужен JavaScript."),
        ("connecting", "Connecting…", "Подключение…"),
        ("live", "Live: changes appear as they happen", "Изменения отображаются сразу"),
        ("reconnecting", "Connection lost; reconnecting in {seconds} s", "Соединение потеряно, повторное подключение через {seconds} с"),
        ("streamFailed", "The server could not read the store: {message}", "Сервер не смог прочитать хранилище: {message}"),
        ("stopped", "Updates stopped", "Обновления остановлены"),
        ("waitingForToken", "Waiting for the API token", "Ожидание токена API"),

        ("tokenHeading", "API token required", "Нужен токен API"),
        ("tokenNeeded", "The API requires the bearer token set in API_TOKEN. It is kept in this tab until the tab is closed.",
            "API требует токен, заданный в API_TOKEN. Токен хранится в этой вкладке, пока она открыта."),
        ("tokenRejected", "The API rejected this token; enter it again.", "API не принял этот токен, введите его ещё раз."),
        ("tokenLabel", "API token", "Токен API"),
        ("tokenSubmit", "Use token", "Применить токен"),
        ("forgetToken", "Forget token", "Забыть токен"),

        ("countsHeading", "Documents by state", "Документы по состояниям"),
        ("countsFailed", "Counts are unavailable: {message}", "Не удалось получить количество документов: {message}"),
        ("retryErrors", "Retry all ERROR documents", "Повторить все документы в ERROR"),
        ("confirmRetryErrors", "Send all documents in state ERROR again ({count})?", "Отправить повторно все документы в состоянии ERROR ({count})?"),
        ("confirmRetryErrorsUncounted", "Send all documents in state ERROR again?", "Отправить повторно все документы в состоянии ERROR?"),
        ("retriedErrors", "Documents set to RETRY: {count}.", "Документов переведено в RETRY: {count}."),
        (
            "unreadableLeft", "{count} documents cannot be read and stay in ERROR until they are corrected with SQL.",
            "Документов, которые нельзя прочитать: {count}; они остаются в ERROR, пока их не исправят через SQL."
        ),

        ("listHeading", "Mail collection", "Коллекция писем"),
        ("filtersLabel", "Filter the list", "Фильтр списка"),
        ("stateFilter", "State", "Состояние"),
        ("allStates", "All states", "Все состояния"),
        ("searchLabel", "Search recipients and subject", "Поиск по получателям и теме"),
        ("searchButton", "Search", "Найти"),
        ("clearFilters", "Clear", "Сбросить"),
        ("listCaption", "Mail documents, newest first", "Письма, сначала новые"),
        ("columnCreated", "Created", "Создан"),
        ("columnState", "State", "Состояние"),
        ("columnRecipients", "Recipients", "Получатели"),
        ("columnSubject", "Subject", "Тема"),
        ("columnAttempts", "Attempts", "Попытки"),
        ("columnActions", "Actions", "Действия"),
        ("noSubject", "(no subject)", "(без темы)"),
        ("templateSubject", "template {name}", "шаблон {name}"),
        ("noDocuments", "No documents.", "Документов нет."),
        ("noMatches", "No documents match the filter.", "Нет документов, подходящих под фильтр."),
        ("shownCount", "Documents shown: {count}", "Показано документов: {count}"),
        ("loading", "Loading…", "Загрузка…"),
        ("loadMore", "Load more", "Показать ещё"),
        ("retryDocumentLabel", "Retry document {id}", "Повторить отправку документа {id}"),

        ("backToList", "Back to the list", "Назад к списку"),
        ("documentHeading", "Document {id}", "Документ {id}"),
        ("messageHeading", "Message", "Письмо"),
        ("deliveryHeading", "Delivery", "Доставка"),
        ("noDelivery", "No delivery record yet.", "Записи о доставке пока нет."),
        ("retry", "Retry", "Повторить"),
        ("sendAgain", "Send again", "Отправить снова"),
        ("confirmSendAgain", "This document was already delivered (SUCCESS). Send it again?",
            "Этот документ уже доставлен (SUCCESS). Отправить его ещё раз?"),
        ("retryNotNow", "A retry is possible once the attempt ends in SUCCESS or ERROR.",
            "Повторить отправку можно, когда попытка завершится с SUCCESS или ERROR."),
        ("retryRequested", "Document {id} is set to RETRY.", "Документ {id} переведён в RETRY."),
        ("retryFailed", "Retry failed: {message}", "Не удалось повторить отправку: {message}"),
        ("requestFailed", "The request failed: {message}", "Запрос не выполнен: {message}"),
        ("previewHeading", "HTML preview", "Предпросмотр HTML"),
        ("previewNote", "Scripts, remote images and other external content are blocked in the preview.",
            "В предпросмотре заблокированы скрипты, внешние изображения и другие внешние ресурсы."),
        ("previewTitle", "Preview of message.html", "Предпросмотр message.html"),
        ("noHTML", "The document has no message.html.", "В документе нет message.html."),
        ("templatePreview", "The HTML comes from the template {name} when the message is sent, so it cannot be previewed here.",
            "HTML создаётся из шаблона {name} при отправке, поэтому здесь его не показать."),
        ("documentJSON", "Document JSON", "JSON документа"),
        ("documentDeleted", "Document {id} was deleted.", "Документ {id} удалён."),
        ("documentNotFound", "There is no document {id}.", "Документ {id} не найден."),
        ("invalidLink", "This link does not name a document.", "Эта ссылка не указывает на документ."),
    ]

    /// Returns the table of one language, key to text.
    static func table(for language: DashboardLanguage) -> [String: String] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.key, language == .russian ? $0.russian : $0.english) })
    }
}
