/// The nginx configuration of `MavenRepositoryFixture`.
///
/// How the GitHub-like refusals work: rewrite directives run before authentication, so a refusal decided
/// there (`rewrite ^ /__conflict last`) jumps to an internal location that authenticates first (a wrong
/// password still gets 401) and only then answers (`try_files /.none =409`). `error_page 401` sends every
/// 401 through an internal location too, so that it also closes the connection. `limit_except` is not used:
/// the rewrite logic would not be inherited there and would silently never run.
struct NginxMavenConfig {
    let options: MavenRepositoryFixture.Options
    let port: Int
    /// The fixture directory (absolute, no trailing slash).
    let directory: String
    let readinessToken: String

    static let readinessPath = "/__stevedore-fixture-ping"

    func render() -> String {
        let realm = "\"\(MavenRepositoryFixture.realm)\""
        let readRealm = options.anonymousReads ? "$stevedore_realm" : realm
        var readOnlyMap = ""
        for user in options.readers.keys.sorted() {
            readOnlyMap += "        \"PUT:\(user)\" 1;\n"
        }
        let immutability = options.immutableReleases ? """
                    set $stevedore_conflict $stevedore_immutable;
                    if (-f $request_filename) { set $stevedore_conflict "${stevedore_conflict}e"; }
                    if ($stevedore_conflict = "1e") { rewrite ^ /__conflict last; }

            """ : ""
        return """
            # MavenRepositoryFixture: one nginx process, everything under \(directory).
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(directory)/logs/nginx.pid;
            error_log \(directory)/logs/error.log notice;
            events { worker_connections 512; }

            http {
                default_type application/octet-stream;
                types { text/xml xml pom; }
                client_body_temp_path \(directory)/temp/client_body;
                proxy_temp_path \(directory)/temp/proxy;
                fastcgi_temp_path \(directory)/temp/fastcgi;
                uwsgi_temp_path \(directory)/temp/uwsgi;
                scgi_temp_path \(directory)/temp/scgi;
                server_tokens off;

                map $http_authorization $stevedore_auth_present { "" 0; default 1; }
                # Anonymous reads: no authentication for GET and HEAD.
                map $request_method $stevedore_realm { GET off; HEAD off; default \(realm); }
                # PUTs that may not replace an existing file: outside *-SNAPSHOT/, not maven-metadata.xml*.
                map "$request_method:$uri" $stevedore_immutable {
                    ~^PUT:.*/maven-metadata\\.xml[^/]*$ 0;
                    ~^PUT:.*-SNAPSHOT/[^/]+$ 0;
                    ~^PUT: 1;
                    default 0;
                }
                # Read-only users.
                map "$request_method:$remote_user" $stevedore_read_only_write {
            \(readOnlyMap)        default 0;
                }
                log_format stevedore_maven '\(MavenAccessLogEntry.logFormat)';

                server {
                    listen 127.0.0.1:\(port);
                    root \(directory)/repository;
                    access_log \(directory)/logs/access.log stevedore_maven;
                    client_max_body_size 0;
                    auth_basic_user_file \(directory)/conf/htpasswd;
                    error_page 401 /__unauthorized;

                    location / {
                        auth_basic \(readRealm);
                        dav_methods PUT;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                        if ($stevedore_read_only_write) { rewrite ^ /__forbidden last; }
            \(immutability)        }
                    location = /__conflict {
                        internal;
                        auth_basic \(realm);
                        keepalive_timeout 0;
                        try_files /.none =409;
                    }
                    location = /__forbidden {
                        internal;
                        auth_basic \(realm);
                        keepalive_timeout 0;
                        try_files /.none =403;
                    }
                    location = /__unauthorized {
                        internal;
                        keepalive_timeout 0;
                        return 401;
                    }
                    location = \(Self.readinessPath) {
                        access_log off;
                        add_header X-Stevedore-Fixture "\(readinessToken)";
                        return 204;
                    }
                }
            }

            """
    }
}
