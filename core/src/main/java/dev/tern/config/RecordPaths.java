package dev.tern.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;

/**
 * Reads and replaces a component of a tree of records by a dotted path ({@code smtp.maxMessageSize}), rebuilding the
 * records on the way up. Used only while loading configuration, so reflection costs nothing at run time.
 */
final class RecordPaths {
    private RecordPaths() {
    }

    static Object get(Object root, String path) {
        Object node = root;
        for (String name : path.split("\\.")) {
            node = read(node, component(node.getClass(), name));
        }
        return node;
    }

    static Type type(Class<?> rootType, String path) {
        Class<?> node = rootType;
        Type type = null;
        for (String name : path.split("\\.")) {
            RecordComponent c = component(node, name);
            type = c.getGenericType();
            node = c.getType();
        }
        return type;
    }

    /** A copy of {@code root} with the component at {@code path} replaced by {@code value}. */
    static <T> T with(T root, String path, Object value) {
        int dot = path.indexOf('.');
        String head = dot < 0 ? path : path.substring(0, dot);
        RecordComponent[] components = root.getClass().getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        boolean found = false;
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            args[i] = read(root, components[i]);
            if (components[i].getName().equals(head)) {
                args[i] = dot < 0 ? value : with(args[i], path.substring(dot + 1), value);
                found = true;
            }
        }
        if (!found) {
            throw new IllegalArgumentException("no setting " + path);
        }
        try {
            Constructor<?> ctor = root.getClass().getDeclaredConstructor(types);
            @SuppressWarnings("unchecked")
            T copy = (T) ctor.newInstance(args);
            return copy;
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalArgumentException(cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RecordComponent component(Class<?> type, String name) {
        if (type.isRecord()) {
            for (RecordComponent c : type.getRecordComponents()) {
                if (c.getName().equals(name)) {
                    return c;
                }
            }
        }
        throw new IllegalArgumentException("no setting " + name + " in " + type.getSimpleName());
    }

    private static Object read(Object record, RecordComponent c) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
