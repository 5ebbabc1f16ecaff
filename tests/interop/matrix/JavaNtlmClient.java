// HTTP client of test-matrix.sh: OpenJDK's HttpURLConnection with its NTLM
// scheme. Usage: java -cp DIR JavaNtlmClient URL USER DOMAIN; the password
// is the first line of stdin. Prints the final HTTP status.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Authenticator;
import java.net.HttpURLConnection;
import java.net.PasswordAuthentication;
import java.net.URL;
import java.nio.charset.StandardCharsets;

public class JavaNtlmClient {
    public static void main(String[] args) throws Exception {
        final String url = args[0], user = args[1], domain = args[2];
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        final String password = in.readLine();
        Authenticator.setDefault(new Authenticator() {
            private int asked = 0;

            @Override
            protected PasswordAuthentication getPasswordAuthentication() {
                // answer once: a refused password is not tried again
                if (asked++ > 0)
                    return null;
                String login = domain.isEmpty() ? user : domain + "\\" + user;
                return new PasswordAuthentication(login, password.toCharArray());
            }
        });
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(10000);
        c.setReadTimeout(10000);
        System.out.println(c.getResponseCode());
    }
}
