/// The use of STARTTLS (RFC 3207) on `smtp://`, in nodemailer's terms.
public enum STARTTLSPolicy: Sendable, Equatable {
    /// Upgrade whenever the server offers STARTTLS; go on in clear text when it does not.
    /// A STARTTLS that the server offers but then fails is an error, never a silent downgrade.
    case whenOffered
    /// `requireTLS`: refuse to go on in clear text when the server does not offer STARTTLS.
    case required
    /// `ignoreTLS`: never send STARTTLS, even when offered. Mail and any password then cross
    /// the network readable by anyone on the path.
    case never
}
