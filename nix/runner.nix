# services.cc-ci.runner: a Drone exec runner on the CI host that runs pipelines as the cc-ci user, with
# cc-ci (wrapped with this host's configuration) on the steps' PATH. Imported by ./module.nix.
#
#   services.cc-ci.runner = {
#     enable = true;
#     environmentFile = "/run/secrets/drone-runner"; # DRONE_RPC_PROTO, DRONE_RPC_HOST, DRONE_RPC_SECRET
#     capacity = 2;
#   };
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) mkEnableOption mkIf mkOption optionalAttrs types;
  cfg = config.services.cc-ci;
  rcfg = cfg.runner;
  finalPackage = cfg.finalPackage;
  ccciEnv = cfg.finalEnvironment;
in
{
  options.services.cc-ci.runner = {
    enable = mkEnableOption "a Drone exec runner that runs pipelines as the cc-ci user";
    package = lib.mkPackageOption pkgs "drone-runner-exec" { };
    environmentFile = mkOption {
      # A string, not a path: a path literal would copy the RPC secret into the world-readable store.
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/drone-runner";
      description = ''
        A file (outside the Nix store) with DRONE_RPC_PROTO, DRONE_RPC_HOST and DRONE_RPC_SECRET.
      '';
    };
    capacity = mkOption {
      type = types.ints.positive;
      default = 2;
      description = ''
        How many pipelines (cc-ci runs) this host takes at once (DRONE_RUNNER_CAPACITY). Runs are isolated,
        so this is a resource limit only; see docs/operations.md for sizing.
      '';
    };
    name = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "The runner's name in Drone (DRONE_RUNNER_NAME).";
    };
    labels = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        swarm = "ci-1";
      };
      description = "Runner labels (DRONE_RUNNER_LABELS), matched by a pipeline's `node:` section.";
    };
    reportsDir = mkOption {
      type = types.str;
      default = "${cfg.stateDir}/reports";
      defaultText = lib.literalExpression "\"\${config.services.cc-ci.stateDir}/reports\"";
      description = ''
        Where pipelines keep each run's JUnit XML, Markdown summary and artifacts
        (`<reportsDir>/<recipe>/<build>/`), exported to the steps as REPORTS_DIR; world-readable, for the
        same static web server as the dashboard.
      '';
    };
    extraPackages = mkOption {
      type = types.listOf types.package;
      default = with pkgs; [
        bash
        coreutils
        curl
        git
        jq
      ];
      defaultText = lib.literalExpression "with pkgs; [ bash coreutils curl git jq ]";
      description = "Tools the pipeline steps may use, besides cc-ci (DRONE_RUNNER_PATH).";
    };
  };

  config = mkIf (cfg.enable && rcfg.enable) {
    assertions = [
      {
        assertion = rcfg.environmentFile != null;
        message = "services.cc-ci.runner.enable needs runner.environmentFile (DRONE_RPC_HOST, DRONE_RPC_PROTO, DRONE_RPC_SECRET).";
      }
    ];

    systemd.tmpfiles.rules = [
      "d ${cfg.stateDir}/drone 0700 ${cfg.user} ${cfg.group} -"
      "d ${rcfg.reportsDir} 0755 ${cfg.user} ${cfg.group} -"
    ];

    # Pipelines run as the service user, so a run reads and writes the same coord tree as the timers.
    systemd.services.cc-ci-drone-runner = {
      description = "cc-ci: Drone exec runner";
      wantedBy = [ "multi-user.target" ];
      after = [
        "network-online.target"
        "docker.service"
        "cc-ci-coord-provision.service"
      ];
      wants = [ "network-online.target" ];
      requires = [ "cc-ci-coord-provision.service" ];
      # A restart would kill running pipelines (their teardown runs, but the PR gets no verdict).
      restartIfChanged = false;
      environment = {
        HOME = cfg.stateDir;
        DRONE_RUNNER_NAME = rcfg.name;
        DRONE_RUNNER_CAPACITY = toString rcfg.capacity;
        DRONE_RUNNER_ROOT = "${cfg.stateDir}/drone";
        DRONE_RUNNER_PATH = lib.makeBinPath ([ finalPackage ] ++ rcfg.extraPackages);
        DRONE_RUNNER_ENVFILE = toString (
          pkgs.writeText "cc-ci-runner.env" (
            lib.concatStrings (
              lib.mapAttrsToList (n: v: "${n}=${v}\n") (
                ccciEnv
                // {
                  HOME = cfg.stateDir;
                  REPORTS_DIR = rcfg.reportsDir;
                }
              )
            )
          )
        );
      }
      // optionalAttrs (rcfg.labels != { }) {
        DRONE_RUNNER_LABELS = lib.concatStringsSep "," (lib.mapAttrsToList (n: v: "${n}:${v}") rcfg.labels);
      };
      serviceConfig = {
        User = cfg.user;
        Group = cfg.group;
        SupplementaryGroups = [ "docker" ];
        EnvironmentFile = rcfg.environmentFile;
        ExecStart = "${rcfg.package}/bin/drone-runner-exec";
        Restart = "on-failure";
        # Pipelines need a working tree and the network, so the sandbox is lighter than the timers'.
        ProtectSystem = "strict";
        ProtectHome = true;
        ReadWritePaths = lib.unique [
          cfg.stateDir
          cfg.coordDir
          rcfg.reportsDir
        ];
        PrivateTmp = true;
        NoNewPrivileges = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectControlGroups = true;
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
        # On stop, systemd sends SIGTERM to every process of the unit, so each running cc-ci tears its app
        # down; give that the time it needs before SIGKILL (a SIGKILLed run is reaped by the janitor).
        KillSignal = "SIGTERM";
        TimeoutStopSec = "5min";
      };
    };
  };
}
