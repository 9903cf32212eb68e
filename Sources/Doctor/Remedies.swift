/// The remedies of GitHub's troubleshooting table for packages, in the words `doctor` prints them. The README's
/// troubleshooting table lists the same lines next to the messages a run prints.
enum Remedy {
    static let newToken = "create a new classic PAT with read:packages and write:packages (GitHub: Settings > "
        + "Developer settings > Personal access tokens), then export CR_PAT (or docker login HOST --password-stdin)"
    static let noCredentials = "export USER_NAME and CR_PAT (or STEVEDORE_USERNAME and STEVEDORE_PASSWORD), run "
        + "docker login HOST, or pass --username U --password-stdin"
    static let writeScope = "this token may only read: use a classic PAT with write:packages (in GitHub Actions: "
        + "permissions: packages: write for GITHUB_TOKEN); partners keep read:packages tokens"
    static let noAccess = "the token's owner has no access to these packages: grant it in the package's settings "
        + "(Manage access), or check the organisation and repository names"
    static let unreachable = "check the address and port, that the registry is running, and any proxy in between"
    static let untrusted = "the certificate is not trusted: pass --ca-cert FILE with the private CA's PEM bundle "
        + "(or install it in the system trust store)"
    static let clock = "sync this machine's clock (timedatectl set-ntp true, or chrony/ntpd): tokens carry expiry "
        + "times and a registry refuses them when the clocks disagree"
    static let partnerHasWrite = "this token can push: give partners a read:packages token instead"
}
