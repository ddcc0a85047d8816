package dev.tern.config;

/**
 * One operator setting: the same name is a config-file key ({@code name = value}) and a flag ({@code --name value}).
 *
 * @param name        lower-case, dash-separated; for a family ({@link #family()}) the prefix before the map key,
 *                    e.g. {@code route} for {@code route.example.com = host:port}
 * @param path        the record component it sets, dotted from {@link RelayConfig}
 * @param description one line for {@code --help}
 * @param family      whether the key carries a map key after a dot ({@code route.<domain>})
 */
public record Setting(String name, String path, String description, boolean family) {
    static Setting of(String name, String path, String description) {
        return new Setting(name, path, description, false);
    }

    static Setting family(String name, String path, String description) {
        return new Setting(name, path, description, true);
    }
}
