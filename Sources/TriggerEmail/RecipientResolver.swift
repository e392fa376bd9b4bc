import DocumentStore
import Logging
import MIME

/// Turns `toUids`, `ccUids` and `bccUids` into addresses from the `email` field of documents in
/// the users collection.
struct RecipientResolver: Sendable {
    var store: any DocumentStore
    var usersCollection: String?
    var logger: Logger

    struct Resolved {
        var to: [String]
        var cc: [String]
        var bcc: [String]
    }

    func resolve(_ mail: MailDocument, documentID: String) async throws -> Resolved {
        let allUids = mail.toUids + mail.ccUids + mail.bccUids
        guard !allUids.isEmpty else { return Resolved(to: mail.to, cc: mail.cc, bcc: mail.bcc) }

        guard let usersCollection else {
            throw MailDocumentError("The document uses toUids, ccUids or bccUids, but no users collection is configured: set USERS_COLLECTION.")
        }

        var missing: [String] = []
        func lookUp(_ uids: [String]) async throws -> [String] {
            var addresses: [String] = []
            for uid in uids {
                // An ID that no document can have, such as one with a slash, is a missing user.
                guard (try? DocumentID.validate(uid)) != nil,
                    let user = try await store.get(uid, from: usersCollection),
                    let email = user.data["email"]?.stringValue, !email.isEmpty
                else {
                    missing.append(uid)
                    continue
                }
                do {
                    _ = try AddressParser.parseList(email)
                } catch {
                    throw MailDocumentError(
                        "User \"\(uid)\" in \(usersCollection) has an invalid email address \"\(error.input)\": \(error.reason); correct the user's email field.")
                }
                addresses.append(email)
            }
            return addresses
        }

        let resolved = Resolved(
            to: mail.to + (try await lookUp(mail.toUids)),
            cc: mail.cc + (try await lookUp(mail.ccUids)),
            bcc: mail.bcc + (try await lookUp(mail.bccUids)))

        if !missing.isEmpty {
            logger.warning(
                "users not found or without an email address",
                ["mail.id": documentID, "users.collection": usersCollection, "users.ids": missing.joined(separator: ",")])
        }
        if resolved.to.isEmpty && resolved.cc.isEmpty && resolved.bcc.isEmpty {
            throw MailDocumentError(
                "No recipient is left: the users \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) were not found in \(usersCollection) or have no email field with a string.")
        }
        return resolved
    }
}
