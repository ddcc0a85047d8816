package dev.tern.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code tern --version}: Tern's version and the running JVM's. */
public final class TernVersion implements IVersionProvider {
    /** Kept in step with the Maven project version. */
    public static final String VERSION = "0.1.0";

    @Override
    public String[] getVersion() {
        return new String[]{"tern " + VERSION,
            "java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
}
