# services.cc-ci: cc-ci on the CI host. One line turns it on:
#
#   services.cc-ci.enable = true;
#
# What it sets up:
#   - a `cc-ci` command on the system PATH, wrapped with this host's configuration (coord dir, data dir,
#     recipe base URL, allowlist, deployer), so every consumer — Drone pipelines, timers, an operator's
#     shell — resolves the same coord tree;
#   - the service user (in the docker group) owning that tree, created by tmpfiles;
#   - cc-ci-coord-provision.service: a oneshot at boot (after docker) running `cc-ci coord provision`
#     then `cc-ci coord reconcile`; it fails loudly (a failed unit, stderr on the console) when the tree
#     cannot be made right;
#   - timers for `cc-ci janitor` (reaps leftovers of killed runs) and `cc-ci coord obligations` (fails the
#     unit while an off-switch use is not covered by a grant), and optionally for `cc-ci dashboard`;
#   - optionally a Drone exec runner that runs pipelines as the service user (`runner.enable`,
#     in ./runner.nix, imported here).
# See docs/operations.md.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib)
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    optional
    optionalAttrs
    types
    ;

  cfg = config.services.cc-ci;
  defaultUser = "cc-ci";

  # The environment every cc-ci process on this host gets. Explicit flags (--coord-dir, --deployer) still
  # win over it, as the resolver orders them.
  ccciEnv =
    {
      CCCI_COORD_DIR = cfg.coordDir;
      CCCI_DATA_DIR = "${cfg.package}/share/cc-ci";
      CCCI_DEPLOYER = cfg.deployer;
    }
    // optionalAttrs (cfg.recipeBaseUrl != null) { CCCI_RECIPE_BASE_URL = cfg.recipeBaseUrl; }
    # Interpolation copies a path literal into the store (so it exists on the host); a string stays as is.
    // optionalAttrs (cfg.allowlistFile != null) { CCCI_REPO_LOCAL_APPROVED_FILE = "${cfg.allowlistFile}"; }
    // cfg.environment;

  # The package, wrapped with ccciEnv as defaults and extraPackages on PATH.
  finalPackage =
    pkgs.runCommand "cc-ci-host-${cfg.package.version}"
      {
        nativeBuildInputs = [ pkgs.makeWrapper ];
        meta.mainProgram = "cc-ci";
        passthru.unwrapped = cfg.package;
      }
      ''
        mkdir -p $out/bin
        ln -s ${cfg.package}/share $out/share
        makeWrapper ${cfg.package}/bin/cc-ci $out/bin/cc-ci \
          ${
            lib.concatStringsSep " " (
              lib.mapAttrsToList (n: v: "--set-default ${lib.escapeShellArg n} ${lib.escapeShellArg v}") ccciEnv
            )
          } ${
            # An empty PATH element would mean the current directory: only prefix when there is something.
            lib.optionalString (cfg.extraPackages != [ ]) "--prefix PATH : ${lib.escapeShellArg (lib.makeBinPath cfg.extraPackages)}"
          }
      '';
  bin = "${finalPackage}/bin/cc-ci";

  # Hardening shared by the units below. The Docker socket is a Unix socket reached through the docker
  # group: AF_UNIX stays allowed, and a socket needs no write access to the (read-only) file system.
  hardening = {
    User = cfg.user;
    Group = cfg.group;
    SupplementaryGroups = [ "docker" ];
    UMask = "0077";
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    NoNewPrivileges = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
    ];
    # A filtered call fails with EPERM (and a typed error naming what failed) instead of killing the process.
    SystemCallErrorNumber = "EPERM";
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
  };

  # A unit that needs the coord tree: provisioned first, and ordered after docker.
  coordUnit = {
    after = [
      "docker.service"
      "cc-ci-coord-provision.service"
    ];
    requires = [ "cc-ci-coord-provision.service" ];
    environment = ccciEnv // {
      HOME = cfg.stateDir;
    };
  };

  timer = onCalendar: {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = onCalendar;
      Persistent = true;
      RandomizedDelaySec = "1min";
    };
  };
in
{
  imports = [ ./runner.nix ];

  options.services.cc-ci = {
    enable = mkEnableOption "cc-ci, the test harness for Co-op Cloud recipes, on this CI host";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The cc-ci package (its share/cc-ci holds generic-tests/ and overlays/).";
    };

    finalPackage = mkOption {
      type = types.package;
      readOnly = true;
      default = finalPackage;
      defaultText = lib.literalMD "`package` wrapped with this host's cc-ci environment";
      description = ''
        The `cc-ci` command as installed on this host: `package` wrapped so that the CCCI_* variables of
        this module are set unless the caller sets them. Use it in other services' `path`.
      '';
    };

    user = mkOption {
      type = types.str;
      default = defaultUser;
      description = ''
        The user that owns the coord tree and runs every cc-ci process (timers, runner, operators via
        `sudo -u`). It is added to the docker group. When left at the default the module creates it.
      '';
    };

    group = mkOption {
      type = types.str;
      default = defaultUser;
      description = "The primary group of `user`.";
    };

    stateDir = mkOption {
      type = types.str;
      default = "/var/lib/cc-ci";
      description = "Home of the service user; holds the coord tree, the runner's workspaces and the dashboard by default.";
    };

    coordDir = mkOption {
      type = types.str;
      default = "${cfg.stateDir}/coord";
      defaultText = lib.literalExpression "\"\${config.services.cc-ci.stateDir}/coord\"";
      description = ''
        The coord tree (ledger, spool, grants, grant key), exported as CCCI_COORD_DIR. Grants and the key
        default to `<coordDir>/grants` and `<coordDir>/grant-key`; set CCCI_GRANT_DIR / CCCI_GRANT_KEY in
        `environment` to move them.
      '';
    };

    recipeBaseUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://git.coopcloud.tech/coop-cloud";
      description = "Where `cc-ci run --recipe NAME` clones NAME from (CCCI_RECIPE_BASE_URL). Null keeps the binary's default.";
    };

    allowlistFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = lib.literalExpression ''pkgs.writeText "repo-local-approved.txt" "hello\n"'';
      description = ''
        The repo-local approval allowlist (CCCI_REPO_LOCAL_APPROVED_FILE): one recipe name per line.
        Recipes on it may run tests and hooks from their own repository. Null keeps the binary's default,
        the package's overlays/repo-local-approved.txt. An empty or missing file denies every recipe.
      '';
    };

    deployer = mkOption {
      type = types.enum [
        "abra"
        "stack"
      ];
      default = "abra";
      description = ''
        The deployer (CCCI_DEPLOYER): `abra` (abra must be on PATH: add it to `extraPackages`) or
        `stack` (plain `docker stack deploy`, no abra needed).
      '';
    };

    extraPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      example = lib.literalExpression "[ pkgs.abra ]";
      description = "Packages put on cc-ci's PATH (e.g. abra for the abra deployer).";
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        CCCI_GRANT_KEY = "/run/keys/cc-ci-grant-key";
      };
      description = "Extra environment for every cc-ci process; it overrides the variables this module derives.";
    };

    provision.repairPerms = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Pass `--repair-perms` at boot: a grant key readable by group or others is tightened (and the repair
        recorded in the ledger) instead of failing the unit.
      '';
    };

    janitor = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Run `cc-ci janitor` on a timer, reaping the leftovers of runs that were killed.";
      };
      onCalendar = mkOption {
        type = types.str;
        default = "*:0/15";
        description = "When the janitor runs (systemd OnCalendar).";
      };
    };

    obligations = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Run `cc-ci coord obligations` on a timer. It exits 1 while an off-switch use is not covered by a
          grant within the grace period, which leaves cc-ci-obligations.service failed (hook OnFailure to
          page someone).
        '';
      };
      onCalendar = mkOption {
        type = types.str;
        default = "hourly";
        description = "When obligations are checked (systemd OnCalendar).";
      };
      grace = mkOption {
        type = types.str;
        default = "24h";
        description = "How long an off-switch use may stay uncovered by a grant (`--grace`).";
      };
    };

    dashboard = {
      enable = mkEnableOption "rendering the static dashboard with `cc-ci dashboard` on a timer";
      dir = mkOption {
        type = types.str;
        default = "${cfg.stateDir}/dashboard";
        defaultText = lib.literalExpression "\"\${config.services.cc-ci.stateDir}/dashboard\"";
        description = "Where the dashboard is written (world-readable, for a static web server).";
      };
      onCalendar = mkOption {
        type = types.str;
        default = "*:0/5";
        description = "When the dashboard is re-rendered (systemd OnCalendar).";
      };
    };

    finalEnvironment = mkOption {
      type = types.attrsOf types.str;
      readOnly = true;
      default = ccciEnv;
      defaultText = lib.literalMD "the CCCI_* variables derived from the options above, then `environment`";
      description = "The environment every cc-ci process on this host gets (what `finalPackage` sets by default).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = config.virtualisation.docker.enable;
          message = "services.cc-ci needs virtualisation.docker.enable = true (and a swarm: docker swarm init).";
        }
      ];

      environment.systemPackages = [ finalPackage ];

      users.users.${cfg.user} = mkMerge [
        { extraGroups = [ "docker" ]; }
        (mkIf (cfg.user == defaultUser) {
          isSystemUser = true;
          group = cfg.group;
          home = cfg.stateDir;
          description = "cc-ci test harness";
        })
      ];
      users.groups = mkIf (cfg.group == defaultUser) { ${defaultUser} = { }; };

      # The coord tree is 0700 and owned by the service user; provisioning fills it in.
      systemd.tmpfiles.rules = [
        # 0711: others may traverse to the world-readable dashboard and reports, never list or read the rest.
        "d ${cfg.stateDir} 0711 ${cfg.user} ${cfg.group} -"
        "d ${cfg.coordDir} 0700 ${cfg.user} ${cfg.group} -"
      ] ++ optional cfg.dashboard.enable "d ${cfg.dashboard.dir} 0755 ${cfg.user} ${cfg.group} -";

      systemd.services.cc-ci-coord-provision = {
        description = "cc-ci: provision and reconcile the coord tree";
        after = [
          "docker.service"
          "systemd-tmpfiles-setup.service"
        ];
        requires = [ "docker.service" ];
        wantedBy = [ "multi-user.target" ];
        environment = coordUnit.environment;
        serviceConfig = hardening // {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = [
            "${bin} coord provision${lib.optionalString cfg.provision.repairPerms " --repair-perms"}"
            "${bin} coord reconcile"
          ];
          ReadWritePaths = [ cfg.coordDir ];
          StandardError = "journal+console";
        };
      };
    }

    (mkIf cfg.janitor.enable {
      systemd.services.cc-ci-janitor = coordUnit // {
        description = "cc-ci: remove leftovers of runs that are no longer alive";
        serviceConfig = hardening // {
          Type = "oneshot";
          ExecStart = "${bin} janitor";
          ReadWritePaths = lib.unique [
            cfg.stateDir
            cfg.coordDir
          ];
        };
      };
      systemd.timers.cc-ci-janitor = timer cfg.janitor.onCalendar;
    })

    (mkIf cfg.obligations.enable {
      systemd.services.cc-ci-obligations = coordUnit // {
        description = "cc-ci: off-switch uses not covered by a grant";
        serviceConfig = hardening // {
          Type = "oneshot";
          ExecStart = "${bin} coord obligations --grace ${lib.escapeShellArg cfg.obligations.grace}";
          ReadWritePaths = [ cfg.coordDir ];
          StandardError = "journal+console";
        };
      };
      systemd.timers.cc-ci-obligations = timer cfg.obligations.onCalendar;
    })

    (mkIf cfg.dashboard.enable {
      systemd.services.cc-ci-dashboard = coordUnit // {
        description = "cc-ci: render the static dashboard";
        serviceConfig = hardening // {
          Type = "oneshot";
          UMask = "0022";
          ExecStart = "${bin} dashboard --out ${lib.escapeShellArg cfg.dashboard.dir}";
          ReadWritePaths = [
            cfg.coordDir
            cfg.dashboard.dir
          ];
        };
      };
      systemd.timers.cc-ci-dashboard = timer cfg.dashboard.onCalendar;
    })
  ]);
}
