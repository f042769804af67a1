package io.evnews.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.codelibs.opensearch.runner.node.OpenSearchRunnerNode;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Runs one OpenSearch node until the process receives SIGTERM.
 *
 * <p>Unlike OpenSearchRunner (built for throwaway test clusters, it deletes its base path on close),
 * this keeps data between runs, binds loopback only and never picks another port on its own: a port
 * conflict must be an error the user sees, not a silent second node.
 *
 * <p>Usage: EngineMain HOME PORT [CLUSTER_NAME]
 */
public final class EngineMain {

    private static final String[] MODULES = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.index.reindex.ReindexPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin",
        "org.opensearch.script.mustache.MustachePlugin",
        "org.opensearch.join.ParentJoinPlugin",
        "org.opensearch.ingest.common.IngestCommonPlugin",
    };

    private EngineMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EngineMain HOME PORT [CLUSTER_NAME]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String clusterName = args.length > 2 ? args[2] : "aggregator";
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("modules"));
        Files.createDirectories(home.resolve("plugins"));
        copyResourceIfAbsent("config/log4j2.properties", config.resolve("log4j2.properties"));
        Path yml = config.resolve("opensearch.yml");
        if (!Files.exists(yml)) {
            Files.writeString(yml, "# settings are passed by the launcher\n");
        }

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", clusterName)
            .put("node.name", "aggregator-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", String.valueOf(port))
            .put("transport.port", (port + 100) + "-" + (port + 199))
            .put("discovery.type", "single-node")
            .putList("node.roles", "cluster_manager", "data", "ingest")
            // a laptop or CI disk that is 90% full must not turn every index read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .put(extraSettings())
            .build();
        if (settings.hasValue("discovery.seed_hosts")) {
            // a node of a multi-node cluster (AGGREGATOR_ENGINE_SETTINGS): discovery instead of single-node
            Settings.Builder multi = Settings.builder().put(settings);
            multi.remove("discovery.type");
            settings = multi.build();
        }

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "aggregator-node");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(env);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : MODULES) {
            plugins.add(Class.forName(name).asSubclass(Plugin.class));
        }
        Node node = new OpenSearchRunnerNode(env, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "engine-shutdown"));
        node.start();
        System.out.println("engine started on http://" + settings.get("network.host") + ":" + port);
        System.out.flush();
        stopped.await();
    }

    /**
     * Settings for a node of a multi-node cluster, one {@code key=value} per line in the environment
     * variable AGGREGATOR_ENGINE_SETTINGS (lists comma-separated), applied over the defaults above:
     * network.host, node.name, node.roles, discovery.seed_hosts, cluster.initial_cluster_manager_nodes.
     */
    private static Settings extraSettings() {
        String raw = System.getenv("AGGREGATOR_ENGINE_SETTINGS");
        Settings.Builder b = Settings.builder();
        if (raw == null) {
            return b.build();
        }
        for (String line : raw.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = line.substring(0, eq).trim();
            String value = line.substring(eq + 1).trim();
            if (key.equals("node.roles") || key.equals("discovery.seed_hosts")
                    || key.equals("cluster.initial_cluster_manager_nodes")) {
                b.putList(key, value.isEmpty() ? new String[0] : value.split(","));
            } else {
                b.put(key, value);
            }
        }
        return b.build();
    }

    private static void copyResourceIfAbsent(String resource, Path target) throws IOException {
        if (Files.exists(target)) {
            return;
        }
        try (InputStream in = EngineMain.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("resource not found on the classpath: " + resource);
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
