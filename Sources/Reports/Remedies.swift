/// What to do about a failed job, by error class (the classes of the README's table).
public enum Remedies {
    public static func text(for errorClass: String?) -> String {
        switch errorClass {
        case "rate_limited":
            "the registry kept throttling past the retry budget: run stevedore retry later, or lower --rate / --concurrency"
        case "server":
            "the registry answered 5xx: check its health and logs, then run stevedore retry"
        case "network":
            "the registry could not be reached: check the address, DNS, proxy and --ca-cert, then run stevedore retry"
        case "upload_session_lost":
            "the registry dropped the upload session: run stevedore retry (it starts fresh uploads)"
        case "auth_failed":
            "the credentials were refused: run stevedore login (or set CR_PAT / --password-stdin), then stevedore retry"
        case "denied":
            "the credentials lack write access to this repository: grant it (ghcr.io: write:packages and the package's access settings), then run stevedore retry"
        case "not_found":
            "something the job needs does not exist: check the services file and the source image"
        case "invalid":
            "the registry rejected the name, tag or manifest: fix it in the services file, then run stevedore provision"
        case "conflict":
            "the tag holds another image: pass --force to overwrite it, or choose another tag"
        case "held":
            "the release's mutable tags (latest) were held back because a version tag failed: run stevedore retry; it completes the version tags and then moves them"
        case "cancelled":
            "the run stopped before the job finished: run stevedore resume"
        case "lease_lost":
            "the runners holding the job stopped renewing their lease (killed, or cut off from the database) until it was given up: check the workers, then run stevedore retry"
        default:
            "unexpected failure: read the message and the attempt log (stevedore report attempts)"
        }
    }
}
