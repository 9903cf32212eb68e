import AuditStore
import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// Turns what postgres-nio throws into the store's one-line ``AuditStoreError``s: refused credentials are
/// `authFailed`, a server that cannot be reached is `cannotOpen`, anything else is `engine` with its SQLSTATE.
/// Messages come from the server's own message fields, never from the connection configuration, so the password
/// cannot leak into them.
enum PostgresErrors {
    static func map(_ error: any Error, location: String) -> AuditStoreError {
        if let error = error as? AuditStoreError { return error }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return map(inner, location: location) }
        }
        guard let error = error as? PSQLError else {
            return unreachable(describe(error), location)
        }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? "sqlstate \(state)"
            switch state {
            case "28P01", "28000":
                return AuditStoreError(.authFailed, path: location, message: message)
            case "3D000":
                return AuditStoreError(.cannotOpen, path: location, message: message + "; create it with createdb")
            case "57P03", "53300":
                return AuditStoreError(.cannotOpen, path: location, message: message)
            default:
                return AuditStoreError(.engine(code: state), path: location, message: message)
            }
        }
        switch error.code {
        case .sslUnsupported:
            return AuditStoreError(.cannotOpen, path: location,
                                   message: "the server does not offer tls, which this sslmode needs; use sslmode=prefer or disable, or turn ssl on in the server")
        case .failedToAddSSLHandler:
            return AuditStoreError(.cannotOpen, path: location, message: "tls could not be set up (check PGSSLROOTCERT)")
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            let underlying = error.underlying.map(describe) ?? "\(error.code)"
            return unreachable(underlying, location)
        default:
            if let underlying = error.underlying {
                return unreachable(describe(underlying), location)
            }
            return AuditStoreError(.engine(code: "\(error.code)"), path: location, message: "the connection failed")
        }
    }

    private static func unreachable(_ why: String, _ location: String) -> AuditStoreError {
        AuditStoreError(.cannotOpen, path: location,
                        message: "cannot reach the server (\(why)); check that it runs and listens on that host and port")
    }

    /// A short lowercase text for a network error.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.first.map { describe($0.error) } ?? "connection failed"
        }
        if let error = error as? NIOSSLError {
            if case .handshakeFailed = error, "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "its tls certificate did not verify: set PGSSLROOTCERT to the certificate of its ca"
            }
            return "tls failed: \(String("\(error)".prefix(100)))"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        let text = "\(error)"
        return text.count > 120 ? String(text.prefix(120)) : text
    }
}
